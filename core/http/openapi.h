#pragma once

namespace helm::http {

// The boundary admin API as an OpenAPI 3.0 document (served at /openapi.json).
const char* OpenApiDocument();

}  // namespace helm::http
