using System.Text;
using BenchmarkDotNet.Attributes;
using Duckton.Core.Data;
using Duckton.Core.Hashing;

namespace Duckton.Benchmarks;

/// <summary>BLAKE3 throughput on large inputs (compare with b3sum via bench/hash-vs-b3sum.sh).</summary>
[MemoryDiagnoser]
public class Blake3Benchmarks
{
    private byte[] _input = [];
    private readonly byte[] _digest = new byte[32];

    [Params(1 << 20, 16 << 20)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _input = new byte[Bytes];
        new Random(1).NextBytes(_input);
    }

    [Benchmark]
    public void Hash() => Blake3.Hash(_input, _digest);
}

/// <summary>Canonical result hash over 1M rows: (INTEGER) and (INTEGER, DOUBLE, VARCHAR).</summary>
[MemoryDiagnoser]
public class CanonicalHashBenchmarks
{
    public const int Rows = 1_000_000;

    private ResultSet _narrow = null!;
    private ResultSet _wide = null!;

    [GlobalSetup]
    public void Setup()
    {
        _narrow = Data.IntegerRows(Rows);
        _wide = Data.IntDoubleVarcharRows(Rows);
    }

    [Benchmark]
    public ResultDigest Integer1M() => CanonicalResultHash.Compute(_narrow);

    [Benchmark]
    public ResultDigest IntDoubleVarchar1M() => CanonicalResultHash.Compute(_wide);
}

/// <summary>Synthetic results in DuckDB's physical layout, in 2048-row batches (DuckDB's vector size).</summary>
public static class Data
{
    public const int BatchRows = 2048;

    public static ResultSet IntegerRows(int rows)
    {
        var schema = new ResultSchema(["i"], [DuckType.Integer]);
        var rng = new Random(42);
        var batches = new List<ResultBatch>();
        for (var start = 0; start < rows; start += BatchRows)
        {
            var n = Math.Min(BatchRows, rows - start);
            var ints = new byte[n * 4];
            rng.NextBytes(ints);
            batches.Add(new ResultBatch(schema, [new ColumnVector(DuckType.Integer, n, ints)], n));
        }
        return new ResultSet(schema, batches);
    }

    public static ResultSet IntDoubleVarcharRows(int rows)
    {
        var schema = new ResultSchema(["id", "score", "name"], [DuckType.Integer, DuckType.Double, DuckType.Varchar]);
        var rng = new Random(43);
        var batches = new List<ResultBatch>();
        for (var start = 0; start < rows; start += BatchRows)
        {
            var n = Math.Min(BatchRows, rows - start);
            var ints = new byte[n * 4];
            var doubles = new byte[n * 8];
            var offsets = new int[n + 1];
            var text = new StringBuilder();
            for (var i = 0; i < n; i++)
            {
                BitConverter.TryWriteBytes(ints.AsSpan(i * 4), start + i);
                BitConverter.TryWriteBytes(doubles.AsSpan(i * 8), rng.NextDouble() * 1000);
                text.Append("name-").Append(rng.Next(100_000));
                offsets[i + 1] = text.Length; // ASCII: chars == bytes
            }
            batches.Add(new ResultBatch(schema,
            [
                new ColumnVector(DuckType.Integer, n, ints),
                new ColumnVector(DuckType.Double, n, doubles),
                new ColumnVector(DuckType.Varchar, n, offsets: offsets, bytes: Encoding.ASCII.GetBytes(text.ToString())),
            ], n));
        }
        return new ResultSet(schema, batches);
    }
}
