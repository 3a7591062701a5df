"""Demo and benchmark data: `kehu demo` and the scripts in benchmarks/ (see generate.py)."""
