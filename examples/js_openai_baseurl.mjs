// The official OpenAI Node SDK through helm: change only baseURL and the key.
import fs from "node:fs";
import OpenAI from "openai";

const client = new OpenAI({
  baseURL: "http://127.0.0.1:9090/v1",
  apiKey: process.env.HELM_KEY ?? fs.readFileSync("helm-data/keys/bootstrap.key", "utf8").trim(),
});
const { data, response } = await client.chat.completions
  .create({ model: "auto", messages: [{ role: "user", content: "Say hello" }] })
  .withResponse();
console.log("decision:", response.headers.get("x-helm-status"), response.headers.get("x-helm-receipt-id"));
console.log(data.choices[0].message.content);
