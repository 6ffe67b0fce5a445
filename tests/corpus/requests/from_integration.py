#!/usr/bin/env python3
"""Writes the client request bodies that tests/integration/test_conformance.py
sends (built by its own helpers) into this corpus as integration_*.json, so the
C++ tests replay them. Re-run after changing those helpers:

    python3 tests/corpus/requests/from_integration.py
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration"))
import test_conformance as tc  # noqa: E402

PROTOCOL = {"chat": "openai.chat", "anthropic": "anthropic.messages",
            "responses": "openai.responses", "gemini": "gemini.generate"}
CALL = {"id": "call_1", "name": tc.TOOL_NAME, "arguments": {"city": "test"}}


def bodies(client):
    model = tc.LANE["openai"]
    user = tc.user_turn
    yield "text", tc.build_body(client, model, False, [user(client, "Say hello.")])
    yield "text_stream", tc.build_body(client, model, True, [user(client, "Say hello.")])
    first = [user(client, "What is the weather? [upstream:tool]")]
    yield "tool_first", tc.build_body(client, model, False, first, tools=True)
    yield "tool_second", tc.build_body(client, model, False,
                                       first + tc.assistant_tool_turns(client, CALL), tools=True)
    yield "image", tc.build_body(client, model, False,
                                 [user(client, "Describe the image.", image=True)])
    if client != "anthropic":
        yield "jsonout", tc.build_body(client, model, False, [user(client, "Answer in JSON.")],
                                       json_out=True)
    yield "empty", tc.build_body(client, model, False, [])


def main():
    for client, protocol in PROTOCOL.items():
        os.makedirs(os.path.join(HERE, protocol), exist_ok=True)
        for name, body in bodies(client):
            path = os.path.join(HERE, protocol, "integration_" + name + ".json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(body, f, ensure_ascii=False, indent=2)
                f.write("\n")


if __name__ == "__main__":
    main()
