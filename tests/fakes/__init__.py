"""Fakes of hardware interfaces for the tests: NVML (pynvml) and the powercap sysfs tree."""
