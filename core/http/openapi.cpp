#include "core/http/openapi.h"

namespace helm::http {

const char* OpenApiDocument() {
  return R"json({"openapi":"3.0.3",
"info":{"title":"helm boundary admin API","version":"1"},
"components":{"securitySchemes":{"admin":{"type":"http","scheme":"bearer"}}},
"security":[{"admin":[]}],
"paths":{
"/healthz":{"get":{"summary":"liveness (no token)","security":[],"responses":{"200":{"description":"ok"}}}},
"/version":{"get":{"summary":"version, ledger id, signing key","responses":{"200":{"description":"ok"}}}},
"/metrics":{"get":{"summary":"Prometheus text","responses":{"200":{"description":"ok"}}}},
"/api/v1/evaluate":{"post":{"summary":"decide; answers once the decision receipt is durable","requestBody":{"content":{"application/json":{"schema":{"type":"object","required":["agent","protocol","body"],"properties":{"agent":{"type":"string"},"protocol":{"type":"string"},"body":{"type":"object"},"approval_id":{"type":"string"},"correlation_id":{"type":"string"}}}}}},"responses":{"200":{"description":"decision_id, receipt_id, verdict, reason_code, rule_id, obligations, approval_id"},"400":{"description":"malformed"},"503":{"description":"ledger unavailable"}}}},
"/api/v1/seal":{"post":{"summary":"append the outcome receipt of a decision","responses":{"200":{"description":"receipt_id"},"404":{"description":"unknown decision receipt"},"503":{"description":"LEDGER_UNAVAILABLE: the outcome cannot be written, or its decision receipt or sealed marker cannot be read"}}}},
"/api/v1/authenticate":{"post":{"summary":"resolve an API key to its principal","responses":{"200":{"description":"agent, api_key_id, may_pin_models; limits and spent_micros for a key with limits"},"401":{"description":"unknown key"}}}},
"/api/v1/receipts":{"get":{"summary":"newest receipts","parameters":[{"name":"limit","in":"query","schema":{"type":"integer"}},{"name":"from","in":"query","schema":{"type":"integer"}},{"name":"agent","in":"query","schema":{"type":"string"}},{"name":"verdict","in":"query","schema":{"type":"string"}}],"responses":{"200":{"description":"receipts, head_seq"},"400":{"description":"limit or from is not a decimal integer"},"503":{"description":"LEDGER_UNAVAILABLE: a receipt in the range cannot be read"}}}},
"/api/v1/receipts/{id}":{"get":{"summary":"one receipt by id or seq","parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],"responses":{"200":{"description":"the stored receipt"},"404":{"description":"unknown"},"503":{"description":"LEDGER_UNAVAILABLE: the receipt cannot be read"}}}},
"/api/v1/receipts/tail":{"get":{"summary":"SSE: id: seq, event: receipt; honours Last-Event-ID, ?since= and ?agent=","responses":{"200":{"description":"text/event-stream; a receipt that cannot be read ends it with event: error, data: {error: {code: LEDGER_UNAVAILABLE, message}}"},"400":{"description":"a cursor that is not a decimal integer, or beyond the head"},"503":{"description":"TAIL_CAPACITY: max_tails tails are open; Retry-After: 1"}}}},
"/api/v1/checkpoint":{"get":{"summary":"ledger head","responses":{"200":{"description":"ledger_id, seq, head_hash"}}},"post":{"summary":"write a signed checkpoint receipt now","responses":{"200":{"description":"the checkpoint receipt"}}}},
"/api/v1/approvals":{"get":{"summary":"approvals, ?status=","responses":{"200":{"description":"approvals"},"503":{"description":"LEDGER_UNAVAILABLE: the state database cannot read an approval: never a shorter list"}}}},
"/api/v1/approvals/{id}":{"get":{"summary":"one approval","parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],"responses":{"200":{"description":"approval"},"404":{"description":"unknown"},"503":{"description":"LEDGER_UNAVAILABLE: the state database cannot read it"}}}},
"/api/v1/approvals/{id}/approve":{"post":{"summary":"approve a pending request","parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],"responses":{"200":{"description":"approval"},"409":{"description":"not pending"},"503":{"description":"LEDGER_UNAVAILABLE: the state database cannot read it: nothing is decided"}}}},
"/api/v1/approvals/{id}/deny":{"post":{"summary":"deny a pending request","parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],"responses":{"200":{"description":"approval"},"409":{"description":"not pending"},"503":{"description":"LEDGER_UNAVAILABLE: the state database cannot read it: nothing is decided"}}}},
"/api/v1/keys":{"get":{"summary":"API keys (never secrets)","responses":{"200":{"description":"keys: id, agent, revoked, limits?, spent_micros?"}}},"post":{"summary":"create a key for an agent, with optional limits {lanes, rpm, tpm, budget_micros, concurrency}; the secret is returned once","responses":{"200":{"description":"id, key, agent, limits?"},"400":{"description":"invalid limits"}}}},
"/api/v1/keys/{id}/revoke":{"post":{"summary":"revoke a key","parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],"responses":{"200":{"description":"revoked"}}}},
"/api/v1/keys/{id}/limits":{"post":{"summary":"replace a key's limits with exactly the object given ({} for none), for its next request","parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],"requestBody":{"required":true,"content":{"application/json":{"schema":{"type":"object","required":["limits"],"properties":{"limits":{"type":"object"}}}}}},"responses":{"200":{"description":"id, agent, revoked, limits?, spent_micros?"},"400":{"description":"no limits, or invalid limits"},"404":{"description":"no such key, or revoked"}}}},
"/api/v1/keys/{id}/rotate":{"post":{"summary":"a new secret for a key (same id, agent, limits and spend), returned once; the old secret is refused from now on","parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],"responses":{"200":{"description":"id, key, agent, limits?"},"404":{"description":"no such key, or revoked"}}}},
"/api/v1/policy/reload":{"post":{"summary":"reload the policy file; an invalid file keeps the last good policy","responses":{"200":{"description":"policy"},"422":{"description":"invalid, not applied"}}}}
}})json";
}

}  // namespace helm::http
