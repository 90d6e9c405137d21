namespace Duckton.Core.Data;

/// <summary>
/// One column of a batch in DuckDB's own physical representation, so values round-trip exactly.
/// </summary>
/// <remarks>
/// Layout by type (all little-endian):
/// <list type="bullet">
/// <item>fixed-width types: <see cref="Fixed"/> holds <c>Length * Type.FixedWidth</c> bytes as DuckDB stores them
/// (UUID is DuckDB's internal hugeint with the top bit flipped, ENUM its dictionary index, DECIMAL its scaled integer).</item>
/// <item>VARCHAR/BLOB/BIT/BIGNUM: <see cref="Offsets"/> (<c>Length + 1</c> entries) into <see cref="Bytes"/>.</item>
/// <item>LIST/MAP: <see cref="Offsets"/> into the single child <c>Children[0]</c> (MAP's child is STRUCT(key, value)).</item>
/// <item>ARRAY: <c>Children[0]</c> holds <c>Length * ArraySize</c> elements.</item>
/// <item>STRUCT: one child per field. UNION: <c>Children[0]</c> is the UTINYINT tag, then one child per member.</item>
/// </list>
/// <see cref="Validity"/> uses DuckDB's convention: bit <c>i % 64</c> of word <c>i / 64</c> set means row i is valid;
/// null means every row is valid.
/// </remarks>
public sealed class ColumnVector
{
    public ColumnVector(DuckType type, int length, byte[]? fixedData = null, ulong[]? validity = null,
        int[]? offsets = null, byte[]? bytes = null, ColumnVector[]? children = null)
    {
        Type = type;
        Length = length;
        Fixed = fixedData ?? [];
        Validity = validity;
        Offsets = offsets ?? [];
        Bytes = bytes ?? [];
        Children = children ?? [];
    }

    public DuckType Type { get; }
    public int Length { get; }
    public byte[] Fixed { get; }
    public ulong[]? Validity { get; }
    public int[] Offsets { get; }
    public byte[] Bytes { get; }
    public ColumnVector[] Children { get; }

    public bool IsValid(int row) => Validity is null || (Validity[row >> 6] & (1UL << (row & 63))) != 0;

    /// <summary>Number of <c>ulong</c> words a validity mask of <paramref name="length"/> rows needs.</summary>
    public static int ValidityWords(int length) => (length + 63) >> 6;

    /// <summary>The byte-string value of row <paramref name="row"/> (VARCHAR, BLOB, BIT, BIGNUM).</summary>
    public ReadOnlySpan<byte> GetBytes(int row) => Bytes.AsSpan(Offsets[row], Offsets[row + 1] - Offsets[row]);

    /// <summary>The fixed-width storage of row <paramref name="row"/>.</summary>
    public ReadOnlySpan<byte> GetFixed(int row)
    {
        var w = Type.FixedWidth;
        return Fixed.AsSpan(row * w, w);
    }

    /// <summary>The child index range of a LIST or MAP row.</summary>
    public (int Start, int Count) GetListRange(int row) => (Offsets[row], Offsets[row + 1] - Offsets[row]);
}

/// <summary>A batch of rows: a schema and one <see cref="ColumnVector"/> per column, all of <see cref="RowCount"/> rows.</summary>
public sealed class ResultBatch
{
    public ResultBatch(ResultSchema schema, ColumnVector[] columns, int rowCount)
    {
        if (columns.Length != schema.Count)
        {
            throw new ArgumentException($"batch has {columns.Length} columns, schema has {schema.Count}", nameof(columns));
        }
        Schema = schema;
        Columns = columns;
        RowCount = rowCount;
    }

    public ResultSchema Schema { get; }
    public ColumnVector[] Columns { get; }
    public int RowCount { get; }
}

/// <summary>Names and types of a result's columns, in order.</summary>
public sealed class ResultSchema : IEquatable<ResultSchema>
{
    public ResultSchema(IReadOnlyList<string> names, IReadOnlyList<DuckType> types)
    {
        if (names.Count != types.Count)
        {
            throw new ArgumentException("names and types differ in length", nameof(types));
        }
        Names = names;
        Types = types;
    }

    public IReadOnlyList<string> Names { get; }
    public IReadOnlyList<DuckType> Types { get; }
    public int Count => Names.Count;

    public bool Equals(ResultSchema? other)
    {
        if (other is null || other.Count != Count)
        {
            return false;
        }
        for (var i = 0; i < Count; i++)
        {
            if (!string.Equals(Names[i], other.Names[i], StringComparison.Ordinal) || !Types[i].Equals(other.Types[i]))
            {
                return false;
            }
        }
        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as ResultSchema);
    public override int GetHashCode() => Count;
}

/// <summary>A complete, materialised result: a schema and its batches in the order they were produced.</summary>
/// <remarks>
/// The batches may live in a spill file (<see cref="SpooledBatches"/>): whoever ends up with a result disposes it, which
/// deletes that file; for an in-memory result <see cref="Dispose"/> does nothing.
/// </remarks>
public sealed class ResultSet : IDisposable
{
    /// <summary>A result whose row count is known without touching its batches (which may be decoded on demand).</summary>
    public ResultSet(ResultSchema schema, IReadOnlyList<ResultBatch> batches, long rowCount)
    {
        Schema = schema;
        Batches = batches;
        RowCount = rowCount;
    }

    public ResultSet(ResultSchema schema, IReadOnlyList<ResultBatch> batches)
    {
        Schema = schema;
        Batches = batches;
        long rows = 0;
        foreach (var b in batches)
        {
            rows += b.RowCount;
        }
        RowCount = rows;
    }

    public ResultSchema Schema { get; }
    public IReadOnlyList<ResultBatch> Batches { get; }
    public long RowCount { get; }

    public void Dispose() => (Batches as IDisposable)?.Dispose();
}
