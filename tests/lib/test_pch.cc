// The translation unit that builds the tests' precompiled header (FERRY_PCH).
