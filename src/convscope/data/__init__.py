"""The data stages' logic: download the IDX files, parse them, split and save arrays."""
