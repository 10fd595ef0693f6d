/**
 * [Note: onnxruntime telemetry] onnxruntime writes `~/.cache/Microsoft/DeveloperTools/.onnxruntime/deviceid`
 * (and an `onnxruntime.db` beside it) the first time a process creates a session — a device identifier
 * for Microsoft's telemetry, in an app that promises nothing leaves the machine. The runtime reads
 * `ORT_DISABLE_TELEMETRY` when it creates its environment (with the first session), and with it set
 * writes neither file (test/integration/onnx-telemetry.test.ts checks with a temporary HOME). Every module
 * that creates sessions imports this one first (engine/sessions.ts, engine/attributes/heads.ts, people/knn.ts), in every
 * process and worker thread (a worker's environment is a copy taken when it starts).
 */
process.env['ORT_DISABLE_TELEMETRY'] = '1';

export const ONNX_TELEMETRY_DISABLED = true;
