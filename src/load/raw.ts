// `--raw FILE`: every request's record as CSV, in start order, times in microseconds from the first start.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { ERROR_NAME, type Records } from './records.js';

export const RAW_HEADER = 'index,start_us,connect_us,first_byte_us,end_us,total_us,status,bytes,error,slot';

export async function writeRaw(file: string, r: Records): Promise<void> {
  const out = createWriteStream(file);
  const origin = r.length ? r.start[0]! : 0;
  const us = (ms: number) => (Number.isNaN(ms) ? '' : Math.round((ms - origin) * 1000).toString());
  let chunk = RAW_HEADER + '\n';
  for (let i = 0; i < r.length; i++) {
    const total = r.end[i]! - r.start[i]!;
    chunk += `${i},${us(r.start[i]!)},${us(r.connected[i]!)},${us(r.firstByte[i]!)},${us(r.end[i]!)},${Number.isNaN(total) ? '' : Math.round(total * 1000)},${r.status[i]},${r.bytes[i]},${ERROR_NAME[r.error[i]!] ?? ''},${r.slot[i]}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}
