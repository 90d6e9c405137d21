using System.Text;

namespace Duckton.Core.Data;

/// <summary>Builds all-VARCHAR results, the shape of admin functions' <c>(group, key, value)</c> rows.</summary>
internal static class TextResult
{
    public static ResultSet Build(IReadOnlyList<string> names, IEnumerable<IReadOnlyList<string?>> rows)
    {
        var types = new DuckType[names.Count];
        Array.Fill(types, DuckType.Varchar);
        var schema = new ResultSchema(names, types);
        var materialized = rows.ToList();
        if (materialized.Count == 0)
        {
            return new ResultSet(schema, []);
        }
        var columns = new ColumnVector[names.Count];
        for (var c = 0; c < columns.Length; c++)
        {
            var offsets = new int[materialized.Count + 1];
            var bytes = new List<byte>();
            ulong[]? validity = null;
            for (var r = 0; r < materialized.Count; r++)
            {
                offsets[r] = bytes.Count;
                var value = c < materialized[r].Count ? materialized[r][c] : null;
                if (value is null)
                {
                    validity ??= AllValid(materialized.Count);
                    validity[r >> 6] &= ~(1UL << (r & 63));
                    continue;
                }
                bytes.AddRange(Encoding.UTF8.GetBytes(value));
            }
            offsets[materialized.Count] = bytes.Count;
            columns[c] = new ColumnVector(DuckType.Varchar, materialized.Count, validity: validity, offsets: offsets, bytes: [.. bytes]);
        }
        return new ResultSet(schema, [new ResultBatch(schema, columns, materialized.Count)]);
    }

    /// <summary>Three-column <c>(group, key, value)</c> rows.</summary>
    public static ResultSet GroupKeyValue(IEnumerable<(string Group, string Key, string? Value)> rows) =>
        Build(["group", "key", "value"], rows.Select(r => (IReadOnlyList<string?>)[r.Group, r.Key, r.Value]));

    /// <summary>Two-column <c>(key, value)</c> rows.</summary>
    public static ResultSet KeyValue(IEnumerable<(string Key, string? Value)> rows) =>
        Build(["key", "value"], rows.Select(r => (IReadOnlyList<string?>)[r.Key, r.Value]));

    private static ulong[] AllValid(int rows)
    {
        var words = new ulong[ColumnVector.ValidityWords(rows)];
        Array.Fill(words, ulong.MaxValue);
        return words;
    }
}
