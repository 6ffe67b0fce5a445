// The official OpenAI SDK from TypeScript through helm: change only baseURL and the key.
import OpenAI from "openai";

const client = new OpenAI({ baseURL: "http://127.0.0.1:9090/v1", apiKey: process.env.HELM_KEY! });

async function main(): Promise<void> {
  const stream = await client.chat.completions.create({
    model: "auto",
    stream: true,
    messages: [{ role: "user", content: "Count to five" }],
  });
  for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta?.content ?? "");
  process.stdout.write("\n");
}

main();
