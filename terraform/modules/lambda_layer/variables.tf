variable "name_prefix" {
  description = "Prefix of the layer name, `kass-<env>` (e.g. `kass-dev`); the layer is `<name_prefix>-<name>`."
  type        = string

  validation {
    condition     = can(regex("^kass-(dev|staging|prod)(-[a-z0-9]+)?$", var.name_prefix)) && length(var.name_prefix) <= 24
    error_message = "Set name_prefix to kass-dev, kass-staging or kass-prod (optionally one lowercase suffix such as kass-dev-alice), at most 24 characters."
  }
}

variable "name" {
  description = "Short layer name, as built by `make build` (dist/layers/<name>.zip): `core` or `agent`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}$", var.name))
    error_message = "Set name to a short lowercase layer name such as core or agent."
  }
}

variable "zip_path" {
  description = "Path of the prebuilt layer zip (`python/...` layout), e.g. `dist/layers/core.zip` from `make build`. Terraform never builds it."
  type        = string

  validation {
    condition     = endswith(var.zip_path, ".zip")
    error_message = "Set zip_path to the layer zip written by `make build`, e.g. ../../../dist/layers/core.zip."
  }
}

variable "description" {
  description = "Layer description shown in the console."
  type        = string
  default     = "kass shared layer (built by make build)"
}

variable "runtime" {
  description = "Lambda Python runtime the layer's bytecode and wheels were built for (KASS_LAMBDA_PYTHON_VERSION of `make build`)."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.runtime)
    error_message = "Set runtime to python3.11, python3.12 or python3.13 (the targets `make build` supports)."
  }
}

variable "architecture" {
  description = "Instruction set the layer's native wheels were built for (KASS_LAMBDA_ARCHITECTURE of `make build`)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "Set architecture to arm64 or x86_64."
  }
}
