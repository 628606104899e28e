# Mirrors the README's commands for people who have `just`.

# Run the whole pipeline on a synthetic dataset (out/demo).
demo *ARGS:
    cargo xtask demo {{ARGS}}

# Run every test of the workspace.
test *ARGS:
    cargo xtask test {{ARGS}}

# Install prerequisites only (libhdf5-dev).
deps:
    cargo xtask deps

# Formatting and lints as CI and reviewers expect.
check:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Inspect a file.
inspect FILE:
    cargo run --quiet -- inspect {{FILE}}
