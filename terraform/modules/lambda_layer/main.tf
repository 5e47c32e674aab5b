# One Lambda layer version from a zip built by `make build`. The zip is deterministic, so its
# hash, and therefore the layer version, changes only when the layer's content does.
resource "aws_lambda_layer_version" "this" {
  layer_name               = "${var.name_prefix}-${var.name}"
  description              = var.description
  filename                 = var.zip_path
  source_code_hash         = filebase64sha256(var.zip_path)
  compatible_runtimes      = [var.runtime]
  compatible_architectures = [var.architecture]
}
