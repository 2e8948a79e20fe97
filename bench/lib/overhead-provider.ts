// The fake LLM provider of bench/overhead.ts's `http` workload, in its own process so its CPU is
// not counted as the workload's: an OpenAI-style POST /v1/chat/completions endpoint on loopback
// that reads and parses the request body as a provider's front end would, and answers at once
// with a chat.completion JSON body (an assistant message of 600-1,400 characters, usage counted
// from the request). No artificial latency: the benchmark measures CPU, not waiting.
// Prints `listening <port>` on stdout once it accepts connections.
import { createServer } from 'node:http';

const FILLER = 'The quarterly report shows revenue grew in every region, led by the enterprise segment. ';
let n = 0;

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    let body: { model?: string; messages?: unknown[] };
    try {
      body = JSON.parse(raw.toString('utf8')) as typeof body;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"invalid JSON"}}');
      return;
    }
    const i = n++;
    const content = `Call ${i}: ` + FILLER.repeat(7 + (i % 10));
    const promptTokens = Math.round(raw.length / 4);
    const completionTokens = Math.round(content.length / 4);
    const out = JSON.stringify({
      id: `chatcmpl-${i.toString(36)}${Date.now().toString(36)}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model ?? 'unknown',
      system_fingerprint: 'fp_bench',
      choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) }).end(out);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
