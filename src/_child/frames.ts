// The wire of the "subprocess" start method (./subprocess.ts): messages as
// frames, each a marker, a 32-bit length and the value in V8's
// serialization (the format of structured clone, so what a Worker could be
// sent crosses the same way, SharedArrayBuffers excepted).
//
// The parent writes frames to the child's stdin. The child writes its frames
// to its stderr, where Deno and the user's code also print: the marker lets
// the parent pass everything else through to its own stderr, so a child's
// "Process name:" report and V8's own messages still show. A frame is one
// synchronous write of the child's main thread, which Deno's console writes
// cannot split.
//
// Tier 4 (child start-up).

import { nodeV8 } from "../_core/node_v8.ts";

/** Starts every frame: bytes that printed text does not contain. */
const kMarker = new Uint8Array([0, 0x1b, 0x64, 0x6d, 0x70, 0x1e]);
const kHeader = kMarker.length + 4;
/**
 * The last marker byte of a reply to a child's synchronous call to a shared
 * object (./proxy_channel.ts): the child's stdin reader hands those to its
 * blocked main thread through shared memory, not as messages.
 */
export const kSyncMark = 0x1f;

/**
 * One message as a frame.
 *
 * @throws {DOMException} (DataCloneError) When `message` holds what
 * structured clone refuses, or a SharedArrayBuffer.
 */
export function encodeFrame(message: unknown, sync = false): Uint8Array {
  const v8 = nodeV8();
  let body: Uint8Array;
  try {
    body = v8.serialize(message);
  } catch (error) {
    throw new DOMException((error as Error).message, "DataCloneError");
  }
  const frame = new Uint8Array(kHeader + body.length);
  frame.set(kMarker);
  if (sync) frame[kMarker.length - 1] = kSyncMark;
  new DataView(frame.buffer).setUint32(kMarker.length, body.length, true);
  frame.set(body, kHeader);
  return frame;
}

/** One buffer of `parts`, in order. */
export function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function indexOfMarker(bytes: Uint8Array, from: number): number {
  const first = kMarker[0];
  for (
    let i = bytes.indexOf(first, from);
    i !== -1;
    i = bytes.indexOf(first, i + 1)
  ) {
    let j = 1;
    while (
      j < kMarker.length && i + j < bytes.length && bytes[i + j] === kMarker[j]
    ) j++;
    // A marker cut by the end of the bytes read so far counts as one.
    if (j === kMarker.length || i + j === bytes.length) return i;
  }
  return -1;
}

/** Splits a byte stream into messages and the text between them. */
export class FrameReader {
  // The bytes not consumed yet, as received: a large frame arrives in many
  // chunks, and joining them as they come would copy what came before on
  // every chunk (quadratic: 3 million numbers took ~50 s). They are joined
  // once, when #need bytes are there: a whole frame, whose length is in its
  // header.
  #chunks: Uint8Array[] = [];
  #size = 0;
  #need = 0;

  /**
   * Takes the next chunk; calls `onMessage` for each whole frame and
   * `onText` for the bytes outside frames, in order. The reader keeps a copy
   * of what it holds on to, so the caller may reuse `chunk`'s memory.
   */
  push(
    chunk: Uint8Array,
    onMessage: (message: unknown) => void,
    onText: (bytes: Uint8Array) => void,
  ): void {
    if (this.#size + chunk.length < this.#need) {
      this.#chunks.push(chunk.slice());
      this.#size += chunk.length;
      return;
    }
    const bytes = this.#chunks.length === 0
      ? chunk
      : concat([...this.#chunks, chunk]);
    let at = 0;
    let need = 0;
    while (at < bytes.length) {
      const marker = indexOfMarker(bytes, at);
      if (marker === -1) {
        onText(bytes.subarray(at));
        at = bytes.length;
        break;
      }
      if (marker > at) onText(bytes.subarray(at, marker));
      at = marker;
      // A cut header: fewer than kHeader bytes, read again with the next
      // chunk (a marker's first bytes followed by text are text).
      if (bytes.length - at < kHeader) break;
      if (!kMarker.every((b, i) => bytes[at + i] === b)) {
        // The first marker byte, then something else: printed text.
        onText(bytes.subarray(at, at + 1));
        at++;
        continue;
      }
      const length = new DataView(bytes.buffer, bytes.byteOffset + at)
        .getUint32(kMarker.length, true);
      if (bytes.length - at < kHeader + length) {
        need = kHeader + length;
        break;
      }
      onMessage(
        nodeV8().deserialize(
          bytes.subarray(at + kHeader, at + kHeader + length),
        ),
      );
      at += kHeader + length;
    }
    // What is left is a cut header or the start of a frame that ends past
    // this chunk: a part of this chunk (and a header's few bytes), so each
    // byte is kept once and joined once.
    this.#chunks = at < bytes.length ? [bytes.slice(at)] : [];
    this.#size = bytes.length - at;
    this.#need = need;
  }

  /** The bytes of an unfinished frame, once the stream has ended. */
  rest(): Uint8Array {
    const rest = concat(this.#chunks);
    this.#chunks = [];
    this.#size = 0;
    this.#need = 0;
    return rest;
  }
}
