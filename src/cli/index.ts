#!/usr/bin/env node
/** The `sqlspec` bin. */
import { run } from "./program.js";

process.exitCode = await run(process.argv);
