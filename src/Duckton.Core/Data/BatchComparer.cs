namespace Duckton.Core.Data;

/// <summary>
/// Logical, value-by-value equality of batches, result sets and single values: what a query would return, not how
/// the vectors happen to be laid out. Storage under NULL rows, unused child entries, offsets' base, inactive UNION
/// members and whether an all-valid mask is present or null are ignored; every valid value is compared exactly
/// (floats by their bits, so NaN equals the same NaN and -0.0 differs from 0.0).
/// </summary>
public static class BatchComparer
{
    /// <summary>True when both batches have equal schemas and equal values in every row.</summary>
    public static bool Equal(ResultBatch expected, ResultBatch actual) => Difference(expected, actual) is null;

    /// <summary>Null when equal, else a description of the first difference (column, row and path inside nested values).</summary>
    public static string? Difference(ResultBatch expected, ResultBatch actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        if (!expected.Schema.Equals(actual.Schema))
        {
            return $"schemas differ: ({Describe(expected.Schema)}) vs ({Describe(actual.Schema)})";
        }
        if (expected.RowCount != actual.RowCount)
        {
            return $"row counts differ: {expected.RowCount} vs {actual.RowCount}";
        }
        for (var c = 0; c < expected.Columns.Length; c++)
        {
            for (var row = 0; row < expected.RowCount; row++)
            {
                var diff = ValueDifference(expected.Columns[c], row, actual.Columns[c], row);
                if (diff is not null)
                {
                    return $"column {c} '{expected.Schema.Names[c]}' row {row}: {diff}";
                }
            }
        }
        return null;
    }

    /// <summary>True when both results have equal schemas and the same rows in the same order, however they are split into batches.</summary>
    public static bool Equal(ResultSet expected, ResultSet actual) => Difference(expected, actual) is null;

    /// <summary>Null when equal, else a description of the first difference; batch boundaries do not matter.</summary>
    public static string? Difference(ResultSet expected, ResultSet actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        if (!expected.Schema.Equals(actual.Schema))
        {
            return $"schemas differ: ({Describe(expected.Schema)}) vs ({Describe(actual.Schema)})";
        }
        if (expected.RowCount != actual.RowCount)
        {
            return $"row counts differ: {expected.RowCount} vs {actual.RowCount}";
        }
        var left = new RowCursor(expected);
        var right = new RowCursor(actual);
        for (long row = 0; row < expected.RowCount; row++)
        {
            var (lb, lr) = left.Next();
            var (rb, rr) = right.Next();
            for (var c = 0; c < expected.Schema.Count; c++)
            {
                var diff = ValueDifference(lb.Columns[c], lr, rb.Columns[c], rr);
                if (diff is not null)
                {
                    return $"column {c} '{expected.Schema.Names[c]}' row {row}: {diff}";
                }
            }
        }
        return null;
    }

    /// <summary>True when row <paramref name="rowA"/> of <paramref name="a"/> and row <paramref name="rowB"/> of <paramref name="b"/> hold the same value.</summary>
    public static bool ValuesEqual(ColumnVector a, int rowA, ColumnVector b, int rowB) => ValueDifference(a, rowA, b, rowB) is null;

    /// <summary>Null when the two values are equal, else where and how they differ.</summary>
    public static string? ValueDifference(ColumnVector a, int rowA, ColumnVector b, int rowB)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (!a.Type.Equals(b.Type))
        {
            return $"types differ: {a.Type} vs {b.Type}";
        }
        var validA = IsValueValid(a, rowA);
        var validB = IsValueValid(b, rowB);
        if (validA != validB)
        {
            return validA ? $"{Show(a, rowA)} vs NULL" : $"NULL vs {Show(b, rowB)}";
        }
        if (!validA)
        {
            return null;
        }

        var type = a.Type;
        switch (type.Id)
        {
            case DuckTypeId.List or DuckTypeId.Map:
            {
                var (startA, countA) = a.GetListRange(rowA);
                var (startB, countB) = b.GetListRange(rowB);
                if (countA != countB)
                {
                    return $"lengths differ: {countA} vs {countB}";
                }
                for (var i = 0; i < countA; i++)
                {
                    var diff = ValueDifference(a.Children[0], startA + i, b.Children[0], startB + i);
                    if (diff is not null)
                    {
                        return $"[{i}]: {diff}";
                    }
                }
                return null;
            }
            case DuckTypeId.Array:
            {
                var size = (int)type.ArraySize;
                for (var i = 0; i < size; i++)
                {
                    var diff = ValueDifference(a.Children[0], (rowA * size) + i, b.Children[0], (rowB * size) + i);
                    if (diff is not null)
                    {
                        return $"[{i}]: {diff}";
                    }
                }
                return null;
            }
            case DuckTypeId.Struct:
                for (var f = 0; f < type.Fields.Length; f++)
                {
                    var diff = ValueDifference(a.Children[f], rowA, b.Children[f], rowB);
                    if (diff is not null)
                    {
                        return $".{type.Fields[f].Name}: {diff}";
                    }
                }
                return null;
            case DuckTypeId.Union:
            {
                var tagA = a.Children[0].Fixed[rowA];
                var tagB = b.Children[0].Fixed[rowB];
                if (tagA != tagB)
                {
                    return $"union members differ: {type.Fields[tagA].Name} vs {type.Fields[tagB].Name}";
                }
                var diff = ValueDifference(a.Children[tagA + 1], rowA, b.Children[tagB + 1], rowB);
                return diff is null ? null : $".{type.Fields[tagA].Name}: {diff}";
            }
            case DuckTypeId.Boolean:
                // DuckDB's booleans are bytes; any non-zero byte is true.
                return (a.Fixed[rowA] != 0) == (b.Fixed[rowB] != 0) ? null : $"{Show(a, rowA)} vs {Show(b, rowB)}";
            default:
                if (type.IsByteString)
                {
                    return a.GetBytes(rowA).SequenceEqual(b.GetBytes(rowB)) ? null : $"{Show(a, rowA)} vs {Show(b, rowB)}";
                }
                return type.FixedWidth == 0 || a.GetFixed(rowA).SequenceEqual(b.GetFixed(rowB))
                    ? null
                    : $"{Show(a, rowA)} vs {Show(b, rowB)}";
        }
    }

    /// <summary>A UNION row is NULL when either the union or its tag is NULL.</summary>
    private static bool IsValueValid(ColumnVector v, int row) =>
        v.IsValid(row) && (v.Type.Id != DuckTypeId.Union || v.Children[0].IsValid(row));

    private static string Show(ColumnVector v, int row)
    {
        try
        {
            return ValueFormatter.Format(v, row) ?? "NULL";
        }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or InvalidOperationException)
        {
            return $"<unprintable {v.Type}>";
        }
    }

    private static string Describe(ResultSchema schema) =>
        string.Join(", ", Enumerable.Range(0, schema.Count).Select(i => $"{schema.Names[i]} {schema.Types[i]}"));

    /// <summary>Walks the rows of a result set across its batches.</summary>
    private sealed class RowCursor(ResultSet set)
    {
        private int _batch;
        private int _row;

        public (ResultBatch Batch, int Row) Next()
        {
            while (_row >= set.Batches[_batch].RowCount)
            {
                _batch++;
                _row = 0;
            }
            return (set.Batches[_batch], _row++);
        }
    }
}
