// The openai SDK against `helm proxy --policy` (the boundary embedded in the proxy).
import { defineOpenAiSuite } from './openai_suite.mjs';

defineOpenAiSuite('embedded');
