// Streams through tidegate with the official Node SDKs and prints what the
// client saw as one JSON object. Usage: node clients.mjs GATEWAY_URL SCENARIO
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";

const [base, scenario] = process.argv.slice(2);
const out = { text: "", error: null };

async function openaiChat() {
  const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: "sk-test", maxRetries: 0 });
  const stream = await client.chat.completions.create({
    model: "m", messages: [{ role: "user", content: "hi" }], stream: true,
  });
  for await (const chunk of stream) {
    out.text += chunk.choices[0]?.delta?.content ?? "";
    const finish = chunk.choices[0]?.finish_reason;
    if (scenario === "openai-finish" && finish) (out.finish ??= []).push(finish);
  }
}

async function anthropicMessages() {
  const client = new Anthropic({ baseURL: base, apiKey: "sk-ant-test", maxRetries: 0 });
  const stream = client.messages.stream({
    model: "claude-test", max_tokens: 64, messages: [{ role: "user", content: "hi" }],
  });
  stream.on("text", (text) => { out.text += text; });
  await stream.finalMessage();
}

try {
  await (scenario.startsWith("openai") ? openaiChat() : anthropicMessages());
} catch (err) {
  out.error = { name: err.constructor.name, message: String(err.message ?? err) };
}
process.stdout.write(JSON.stringify(out));
