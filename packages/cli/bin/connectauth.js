#!/usr/bin/env node
// A committed shim, so that npm can link the bin before `prepare` has built dist/.
import "../dist/main.js";
