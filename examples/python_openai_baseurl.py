"""The official OpenAI Python SDK through helm: change only base_url and the key."""
import os

from openai import OpenAI

client = OpenAI(base_url="http://127.0.0.1:9090/v1",
                api_key=os.environ.get("HELM_KEY") or open("helm-data/keys/bootstrap.key").read().strip())
raw = client.chat.completions.with_raw_response.create(
    model="auto", messages=[{"role": "user", "content": "Say hello"}])
print("decision:", raw.headers.get("x-helm-status"), raw.headers.get("x-helm-receipt-id"))
print(raw.parse().choices[0].message.content)
