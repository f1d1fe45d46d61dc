// A NATS server that requires a client certificate (`--tlsverify`) ends the
// TLS handshake of a client that has none with an alert, which Deno 2.9.6's
// node:tls often loses: measured with nats.js 3.x, 2 connects in 3 saw no
// error at all and waited out nats.js's 20 s connect timeout ("timeout"),
// and the third raised the alert outside any promise. The server's INFO
// line, which it sends in the clear before the handshake, says whether it
// requires one (`tls_verify`), so a client without one asks first.
//
// Tier 8: the cluster export only.

/** How long the server may take to send its INFO line, in ms. */
const kInfoTimeoutMs = 2_000;
/** The most bytes read looking for it. */
const kInfoMaxBytes = 64 * 1024;

/** The first line the server sends, parsed; undefined if none came. */
async function readInfo(
  hostname: string,
  port: number,
): Promise<Record<string, unknown> | undefined> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname, port });
  } catch {
    return undefined; // nats.js tries it again, and reports it
  }
  const timer = setTimeout(() => conn.close(), kInfoTimeoutMs);
  const decoder = new TextDecoder();
  let text = "";
  try {
    const buffer = new Uint8Array(4096);
    while (!text.includes("\r\n") && text.length < kInfoMaxBytes) {
      const n = await conn.read(buffer);
      if (n === null) return undefined;
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
    }
    const line = text.slice(0, text.indexOf("\r\n"));
    if (!line.startsWith("INFO ")) return undefined;
    return JSON.parse(line.slice(5));
  } catch {
    return undefined; // closed by the timer, or not a NATS server
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
}

/**
 * Throws when `tls` names no client certificate and the first server that
 * answers requires one.
 *
 * @throws {TypeError} Naming the server and the options that are missing.
 */
export async function checkClientCertificate(
  servers: string[],
  tls: { certFile?: string } | undefined,
  what: string,
): Promise<void> {
  if (tls === undefined || tls.certFile !== undefined) return;
  for (const server of servers) {
    let url: URL;
    try {
      url = new URL(server.includes("://") ? server : `nats://${server}`);
    } catch {
      continue;
    }
    const info = await readInfo(url.hostname, Number(url.port || 4222));
    if (info === undefined) continue;
    if (info.tls_verify === true) {
      throw new TypeError(
        `Cannot ${what} as 'tls' must name a client certificate ('certFile' and 'keyFile'): the server at ${url.host} requires one`,
      );
    }
    return;
  }
}
