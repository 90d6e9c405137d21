using Duckton.Core.Data;

namespace Duckton.Core.Tests.Data;

/// <summary>The host's spool of a sandboxed job's encoded batches: bytes out are the bytes in, in memory and spilled; rows decode on demand.</summary>
public sealed class EncodedSpoolTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-encoded-spool-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ResultBatch Rows(int from, int count) => SampleBatches.Of(
        ("i", ColumnVectors.Fixed<int>(DuckType.Integer, Enumerable.Range(from, count).Select(i => i % 7 == 0 ? (int?)null : i).ToArray())),
        ("s", ColumnVectors.Varchar(Enumerable.Range(from, count).Select(i => i % 5 == 0 ? null : "row-" + i).ToArray())));

    [Theory]
    [InlineData(1L << 30)] // all in memory
    [InlineData(0L)] // all spilled
    [InlineData(3_000L)] // some of each
    public void Bytes_out_are_the_bytes_in_and_rows_decode_on_demand_to_the_original_batches(long budget)
    {
        var batches = Enumerable.Range(0, 6).Select(b => Rows(b * 100, 100 + b)).ToList();
        var encoded = batches.Select(b => BatchCodec.EncodeBatch(b)).ToList();
        using var spool = new EncodedSpool(batches[0].Schema, budget, _dir);
        var pooled = new byte[encoded.Max(e => e.Length) + 16];
        for (var b = 0; b < batches.Count; b++)
        {
            // Added from a reused buffer, as the host does with its pooled frame buffer: the spool must copy.
            encoded[b].CopyTo(pooled, 0);
            Assert.Equal(batches[b].RowCount, spool.Add(pooled.AsSpan(0, encoded[b].Length)));
            Array.Fill(pooled, (byte)0xAB);
        }

        Assert.Equal(batches.Count, spool.Count);
        Assert.Equal(batches.Sum(b => (long)b.RowCount), spool.RowCount);
        Assert.Equal(budget == 0 || budget == 3_000, spool.Spilled);
        Assert.Equal(budget == 3_000, spool.MemoryBytes > 0 && spool.Spilled);
        Assert.True(spool.MemoryBytes <= budget);
        Assert.Equal(encoded.Sum(e => (long)e.Length), spool.MemoryBytes + spool.SpilledBytes);
        for (var b = 0; b < batches.Count; b++)
        {
            Assert.Equal(encoded[b], spool.Encoded(b).ToArray());
            Assert.Equal(batches[b].RowCount, spool.RowCountOf(b));
        }
        Assert.Equal(0, spool.Decoded); // forwarding decodes nothing

        for (var b = 0; b < batches.Count; b++)
        {
            Assert.Null(BatchComparer.Difference(batches[b], spool[b]));
        }
        Assert.Same(spool[5], spool[5]); // the last one is kept, not decoded again
        Assert.Equal(batches.Count, spool.Decoded);
        Assert.Null(BatchComparer.Difference(new ResultSet(batches[0].Schema, batches), new ResultSet(spool.Schema, spool)));
    }

    [Fact]
    public void The_spill_file_is_owner_only_and_deleted_on_dispose_and_bytes_read_back_outlive_it()
    {
        var batch = Rows(0, 50);
        var encoded = BatchCodec.EncodeBatch(batch);
        var spool = new EncodedSpool(batch.Schema, memoryBudget: 0, _dir);
        spool.Add(encoded);
        spool.Add(encoded);
        var path = spool.FilePath!;
        Assert.Equal(_dir, Path.GetDirectoryName(path));
        Assert.StartsWith("spill-", Path.GetFileName(path), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        var kept = spool.Encoded(1);
        spool.Dispose();
        Assert.False(File.Exists(path));
        Assert.Null(spool.FilePath);
        Assert.Equal(encoded, kept.ToArray()); // a fresh array, not a pooled buffer reused after the read
        Assert.Throws<ObjectDisposedException>(() => spool.Add(encoded));
    }

    [Fact]
    public void A_malformed_header_is_refused_and_nothing_is_added()
    {
        var batch = Rows(0, 10);
        var good = BatchCodec.EncodeBatch(batch);
        using var spool = new EncodedSpool(batch.Schema, 1 << 20, _dir);

        var version = (byte[])good.Clone();
        version[0] = 9;
        Assert.Contains("unsupported codec version 9", Assert.Throws<CodecException>(() => spool.Add(version)).Message, StringComparison.Ordinal);

        var other = BatchCodec.EncodeBatch(SampleBatches.Single("i", SampleBatches.Ints(1, 2)));
        Assert.Contains("batch has 1 columns, the schema 2", Assert.Throws<CodecException>(() => spool.Add(other)).Message, StringComparison.Ordinal);

        // A row count beyond the per-batch limit, and a header cut before its columns.
        var huge = new byte[] { BatchCodec.Version, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 2, 0, 0 };
        Assert.Contains("row count", Assert.Throws<CodecException>(() => spool.Add(huge)).Message, StringComparison.Ordinal);
        Assert.Contains("truncated", Assert.Throws<CodecException>(() => spool.Add(good.AsSpan(0, 3))).Message, StringComparison.Ordinal);
        Assert.Throws<CodecException>(() => spool.Add([]));

        Assert.Empty(spool);
        Assert.Equal(0, spool.RowCount);
        spool.Add(good);
        Assert.Equal(10, spool.RowCount);
    }
}
