/** Re-export: the output-path checks live in core (the download use case needs them too). */
export { checkOutputDir, checkOutputFile } from '../core/output-path.js';
