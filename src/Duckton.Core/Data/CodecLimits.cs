namespace Duckton.Core.Data;

/// <summary>
/// Bounds the <see cref="BatchCodec"/> decoder enforces on untrusted input, so a peer cannot make it allocate or
/// recurse without limit. Every bound is checked before the allocation or recursion it guards.
/// </summary>
public sealed record CodecLimits
{
    /// <summary>Hard ceiling for <see cref="MaxDepth"/>: deeper recursion would risk the thread's stack.</summary>
    public const int DepthCeiling = 128;

    public static CodecLimits Default { get; } = new();

    /// <summary>Rows in one batch.</summary>
    public int MaxRowsPerBatch { get; init; } = 1 << 20;

    /// <summary>Columns in a schema or batch.</summary>
    public int MaxColumns { get; init; } = 4096;

    /// <summary>Levels of type nesting; a plain column type is depth 1, <c>INTEGER[]</c> is depth 2. Capped at <see cref="DepthCeiling"/>.</summary>
    public int MaxDepth { get; init; } = 32;

    /// <summary>Bytes of one VARCHAR/BLOB/BIT/BIGNUM value.</summary>
    public int MaxStringBytes { get; init; } = 64 << 20;

    /// <summary>
    /// Values in a batch counted over every vector at every nesting level (rows plus all list, array, struct and union
    /// child entries). Bounds work and memory for types whose values take no bytes on the wire (e.g. <c>"NULL"[100000]</c>).
    /// </summary>
    public long MaxTotalValues { get; init; } = 1L << 26;

    /// <summary>Bytes of a column name, field name or enum label.</summary>
    public int MaxNameBytes { get; init; } = 1 << 16;

    /// <summary>Fields of one STRUCT (UNION is further limited to 256 members by its one-byte tag).</summary>
    public int MaxFields { get; init; } = 4096;

    /// <summary>Entries of one ENUM dictionary.</summary>
    public int MaxEnumValues { get; init; } = 1 << 22;

    /// <summary>Size of a fixed-length ARRAY type (DuckDB's own maximum is 100,000).</summary>
    public uint MaxArraySize { get; init; } = 100_000;
}
