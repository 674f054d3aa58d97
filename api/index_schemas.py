"""Bodies of the index-value and benchmark-value routes (api.routes.indices, api.routes.benchmarks):
what loading a file did, and the stored values. Values are decimals as published (strings), never
floats."""

from __future__ import annotations

from pydantic import Field

from api.schemas import Out


class IndexRejection(Out):
    line_number: int = Field(description="the 1-based line of the file (the header is line 1)")
    field: str = Field(description="index, month or value; or line, row or header for the whole line")
    value: str
    reason: str


class IndexLoad(Out):
    file_name: str
    loaded: int = Field(description="values stored now")
    known: int = Field(description="values stored before with the same value (loading again is harmless)")
    repeated: int = Field(description="lines repeating an earlier line of the file with the same value, counted once")
    rejected: int
    indices: list[str] = Field(description="the indices with a value stored or known from this file")
    first_month: str | None = Field(description="YYYY-MM")
    last_month: str | None = Field(description="YYYY-MM")
    months: int = Field(description="months with a value stored or known from this file")
    rejections: list[IndexRejection]


class StoredIndexValue(Out):
    index: str
    month: str = Field(description="YYYY-MM")
    value: str = Field(description="index points, as published")
    file_name: str


class StoredIndexValues(Out):
    index: str | None = Field(description="the index asked for, or null for every index")
    values: list[StoredIndexValue]


class BenchmarkRejection(Out):
    line_number: int = Field(description="the 1-based line of the file (the header is line 1)")
    field: str = Field(description="date, benchmark or value; or line, row or header for the whole line")
    value: str
    reason: str


class BenchmarkLoad(Out):
    file_name: str
    loaded: int = Field(description="values stored now")
    known: int = Field(description="values stored before with the same value (loading again is harmless)")
    repeated: int = Field(description="lines repeating an earlier line of the file with the same value, counted once")
    rejected: int
    benchmarks: list[str] = Field(description="the benchmarks with a value stored or known from this file")
    first_date: str | None = Field(description="YYYY-MM-DD")
    last_date: str | None = Field(description="YYYY-MM-DD")
    days: int = Field(description="days with a value stored or known from this file")
    rejections: list[BenchmarkRejection]


class StoredBenchmarkValue(Out):
    benchmark: str
    date: str = Field(description="YYYY-MM-DD: the day the value is published for")
    value: str = Field(description="the benchmark's points, as published")
    file_name: str


class StoredBenchmarkValues(Out):
    benchmark: str | None = Field(description="the benchmark asked for, or null for every benchmark")
    values: list[StoredBenchmarkValue]
