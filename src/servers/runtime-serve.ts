// What `bun-serve` and `deno-serve` share: the prebuilt responses of page.ts cut into a fetch-API Response
// (status, headers, body), and the routing of request.ts, so that a runtime's own HTTP server answers exactly what
// every model answers, as far as its own parser lets it (a request its parser rejects gets the runtime's own 4xx).
import type { Responses } from './page.js';
import { MAX_HEAD_BYTES, headEnd, route } from './request.js';

export interface Parts {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

/** A prebuilt response cut into status, headers and body. */
export function parts(bytes: Buffer): Parts {
  const end = headEnd(bytes);
  const lines = bytes.subarray(0, end).toString('latin1').trim().split('\r\n');
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return { status: Number(lines[0]!.split(' ')[1]), headers, body: new Uint8Array(bytes.subarray(end)) };
}

/** The fetch handler: route the method and path (with its query) to one of the prebuilt responses. */
export function fetchHandler(responses: Responses): (req: Request) => Response {
  const byResponse = new Map<Buffer, Parts>(Object.values(responses).map((b: Buffer) => [b, parts(b)]));
  return (req) => {
    const url = req.url;
    // The target as sent: everything from the first '/' after "scheme://host". Bun gives a request without a
    // Host header (HTTP/1.0) its target alone, "/nope".
    const slash = url.startsWith('/') ? 0 : url.indexOf('/', url.indexOf('//') + 2);
    const target = slash < 0 ? '/' : url.slice(slash);
    // The runtime's parser takes heads up to its own limit (Bun's is set to ours in runtime.ts, but counts bytes
    // its own way; Deno.serve has none): ours is 8 KiB, so a larger head (request line and headers as sent, CRLFs
    // and ": " included) gets our 431, as from every model.
    let headBytes = req.method.length + target.length + 13;
    req.headers.forEach((v, k) => {
      headBytes += k.length + v.length + 4;
    });
    const answer = byResponse.get(headBytes > MAX_HEAD_BYTES ? responses[431] : route(req.method, target, responses))!;
    return new Response(req.method === 'HEAD' ? null : answer.body, { status: answer.status, headers: answer.headers });
  };
}
