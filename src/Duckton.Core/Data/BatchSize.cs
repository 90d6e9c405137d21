namespace Duckton.Core.Data;

/// <summary>Memory a batch holds, for result-size limits and metrics.</summary>
internal static class BatchSize
{
    public static long Estimate(ResultBatch batch)
    {
        long total = 0;
        foreach (var c in batch.Columns)
        {
            total += Estimate(c);
        }
        return total;
    }

    public static long Estimate(ColumnVector v)
    {
        long total = v.Fixed.Length + v.Bytes.Length + (v.Offsets.Length * 4L) + ((v.Validity?.Length ?? 0) * 8L);
        foreach (var c in v.Children)
        {
            total += Estimate(c);
        }
        return total;
    }

    public static long Estimate(ResultSet result)
    {
        long total = 0;
        foreach (var b in result.Batches)
        {
            total += Estimate(b);
        }
        return total;
    }
}
