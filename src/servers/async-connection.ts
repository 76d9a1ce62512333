// One connection, written as one straight-line `async` function: read until the head is complete, write the
// answer, close. This single source serves two models: `async` runs it as written (the engine turns each
// `await` into a continuation), and `async-compiled` runs the state machine a compiler makes of it at build time
// (tsconfig.async-compiled.json: TypeScript's ES5 downlevelling, the same transform as Babel's regenerator, turns
// the function into a `switch` over resume points). It imports nothing at run time, so its compiled copy needs
// nothing beside it: the blocking points and the parser come in through `conn`.

/** What the handler may do to its connection; each blocking point is a promise. */
export interface AsyncConnection {
  /** The next bytes from the client, or null once it closed, reset, or stayed silent past the idle timeout. */
  read(): Promise<Buffer | null>;
  /** Resolves once the bytes are handed to the kernel (or the connection failed). */
  write(bytes: Buffer): Promise<void>;
  /** Closes the connection (FIN after what was written). */
  close(): void;
  /** The response to the bytes received so far, or undefined while the head is incomplete (request.ts). */
  answer(received: Buffer): Buffer | undefined;
  /** Joins two chunks of one head. */
  concat(first: Buffer, second: Buffer): Buffer;
}

export async function serveConnection(conn: AsyncConnection): Promise<void> {
  let received: Buffer | undefined;
  for (;;) {
    const chunk = await conn.read();
    if (chunk === null) break;
    received = received === undefined ? chunk : conn.concat(received, chunk);
    const response = conn.answer(received);
    if (response !== undefined) {
      await conn.write(response);
      break;
    }
  }
  conn.close();
}
