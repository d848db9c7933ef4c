#!/usr/bin/env node
// Thin launcher so the package's bin works from a checkout and from an install alike.
import '../dist/src/cli/main.js';
