"""workcred tests (a package so that tests.anvil can be loaded as a pytest plugin)."""
