// The JSON examples of ../shared/SPECS.md §3.2, copied verbatim (the "…" included).

/** POST /compute body, as the engine actually sends it. */
export const COMPUTE_EXAMPLE = `{
  "s3_access_key_id": "minio",
  "s3_secret_access_key": "minio123",
  "s3_region": "eu-central-2",
  "s3_host": "http://localhost:9000",
  "s3_bucket": "engine",
  "task": {
    "created_at": "2024-10-30T10:00:00", "updated_at": "2024-10-30T10:00:00",
    "data_in": ["5f0c…-uuid.png"], "data_out": null, "status": "pending",
    "service_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "pipeline_execution_id": null,
    "id": "76ba4e6a-3b8a-4bda-8407-6eaf5a8e1100"
  },
  "callback_url": "http://localhost:8080/tasks/76ba4e6a-3b8a-4bda-8407-6eaf5a8e1100"
}`;

/** PATCH {callback_url} body, sent by the service. */
export const CALLBACK_EXAMPLE = `{"service": null, "url": null, "data_out": ["9a1e…-uuid.json"], "status": "finished", "error_message": null}`;

/** POST {engine_url}/services body (average-shade-service). */
export const REGISTRATION_EXAMPLE = `{
  "name": "Average Shade", "slug": "average-shade", "url": "http://localhost:9090",
  "summary": "Returns the average shade of an image.", "description": "Returns the average shade of an image.",
  "status": "available",
  "data_in_fields":  [{"name": "image",  "type": ["image/png", "image/jpeg"]}],
  "data_out_fields": [{"name": "result", "type": ["application/json"]}],
  "tags": [{"name": "Image Processing", "acronym": "IP"}],
  "docs_url": "https://docs.swiss-ai-center.ch/reference/services/average-shade/",
  "has_ai": false
}`;
