// The openai SDK against `helm proxy --boundary` asking a separate `helm serve`.
import { defineOpenAiSuite } from './openai_suite.mjs';

defineOpenAiSuite('remote');
