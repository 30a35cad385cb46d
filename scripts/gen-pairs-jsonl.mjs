// Writes a synthetic preference-data JSON Lines file of about SIZE_MB megabytes (default 100):
// Korean, French, emoji and ASCII rows, with one bad row in every 1000 (chosen = rejected) and
// one invalid JSON line in every 5000. Streams to disk; prints the row and bad-row counts.
// Usage: node scripts/gen-pairs-jsonl.mjs OUT.jsonl [SIZE_MB]
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const [out, sizeArg] = process.argv.slice(2);
if (!out) {
  console.error('usage: node scripts/gen-pairs-jsonl.mjs OUT.jsonl [SIZE_MB]');
  process.exit(2);
}
const target = Number(sizeArg ?? 100) * 1024 * 1024;
const prompts = ['뉴턴의 제1법칙을 쉽게 설명해줘.', 'Traduis « bonjour » en coréen, s’il te plaît.', 'Give me three tips for a calm morning 🌅', 'What is the capital of South Korea?'];
const chosen = ['물체는 외부 힘이 없으면 운동 상태를 유지합니다. '.repeat(3), 'En coréen, on dit « 안녕하세요 ». '.repeat(3), 'Wake early, stretch, and drink water 💧. '.repeat(3), 'Seoul is the capital of South Korea. '.repeat(3)];
const rejected = ['뉴턴이 만든 법칙입니다.', 'Je ne sais pas.', 'Just sleep in 😴', 'Busan.'];

const stream = createWriteStream(out);
let bytes = 0;
let rows = 0;
let identical = 0;
let invalid = 0;
let buf = '';
while (bytes < target) {
  const k = rows % 4;
  let line;
  if (rows % 5000 === 4999) {
    line = `{"prompt": "broken row ${rows}", "chosen": "x", "rejected": }`;
    invalid++;
  } else if (rows % 1000 === 999) {
    line = JSON.stringify({ prompt: `${prompts[k]} (${rows})`, chosen: 'same', rejected: 'same' });
    identical++;
  } else {
    line = JSON.stringify({ prompt: `${prompts[k]} (${rows})`, chosen: chosen[k], rejected: `${rejected[k]} #${rows}` });
  }
  buf += line + '\n';
  bytes += Buffer.byteLength(line) + 1;
  rows++;
  if (buf.length > 1 << 20) {
    if (!stream.write(buf)) await once(stream, 'drain');
    buf = '';
  }
}
stream.write(buf);
stream.end();
await once(stream, 'finish');
console.log(JSON.stringify({ file: out, bytes, rows, identical, invalid }));
