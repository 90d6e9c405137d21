using System.Runtime.InteropServices;
using System.Text;

namespace Duckton.Core.Data;

/// <summary>
/// Builds <see cref="ColumnVector"/>s in DuckDB's physical layout from plain .NET values, so tests and producers need
/// not assemble offsets, validity words and raw bytes by hand. A <c>null</c> entry is a NULL row.
/// </summary>
internal static class ColumnVectors
{
    /// <summary>A validity mask with bit i clear where <paramref name="isNull"/>[i]; null when every row is valid.</summary>
    public static ulong[]? Validity(ReadOnlySpan<bool> isNull)
    {
        if (!isNull.Contains(true))
        {
            return null;
        }
        var words = new ulong[ColumnVector.ValidityWords(isNull.Length)];
        for (var i = 0; i < isNull.Length; i++)
        {
            if (!isNull[i])
            {
                words[i >> 6] |= 1UL << (i & 63);
            }
        }
        return words;
    }

    /// <summary>A fixed-width column whose storage type is <typeparamref name="T"/> (e.g. <c>int</c> for INTEGER and DATE).</summary>
    public static ColumnVector Fixed<T>(DuckType type, ReadOnlySpan<T> values, ulong[]? validity = null)
        where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(values);
        if (type.FixedWidth == 0 || bytes.Length != values.Length * type.FixedWidth)
        {
            throw new ArgumentException($"{type} does not store values of {typeof(T).Name}", nameof(type));
        }
        return new ColumnVector(type, values.Length, bytes.ToArray(), validity);
    }

    /// <summary>A fixed-width column from nullable values; NULL rows store <c>default(T)</c>.</summary>
    public static ColumnVector Fixed<T>(DuckType type, IReadOnlyList<T?> values)
        where T : unmanaged
    {
        var raw = new T[values.Count];
        var nulls = new bool[values.Count];
        for (var i = 0; i < raw.Length; i++)
        {
            nulls[i] = values[i] is null;
            raw[i] = values[i].GetValueOrDefault();
        }
        return Fixed<T>(type, raw, Validity(nulls));
    }

    /// <summary>A VARCHAR column.</summary>
    public static ColumnVector Varchar(params string?[] values) =>
        ByteStrings(DuckType.Varchar, values.Select(v => v is null ? null : Encoding.UTF8.GetBytes(v)).ToArray());

    /// <summary>A VARCHAR, BLOB, BIT or BIGNUM column from raw byte strings.</summary>
    public static ColumnVector ByteStrings(DuckType type, IReadOnlyList<byte[]?> values)
    {
        if (!type.IsByteString)
        {
            throw new ArgumentException($"{type} is not a byte-string type", nameof(type));
        }
        var offsets = new int[values.Count + 1];
        var nulls = new bool[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            nulls[i] = values[i] is null;
            offsets[i + 1] = checked(offsets[i] + (values[i]?.Length ?? 0));
        }
        var bytes = new byte[offsets[^1]];
        for (var i = 0; i < values.Count; i++)
        {
            values[i]?.CopyTo(bytes, offsets[i]);
        }
        return new ColumnVector(type, values.Count, validity: Validity(nulls), offsets: offsets, bytes: bytes);
    }

    /// <summary>A LIST (or MAP) column: row i holds the next <paramref name="lengths"/>[i] child entries; null is a NULL row holding none.</summary>
    public static ColumnVector List(DuckType type, IReadOnlyList<int?> lengths, ColumnVector child)
    {
        if (type.Id is not (DuckTypeId.List or DuckTypeId.Map))
        {
            throw new ArgumentException($"{type} is not a LIST or MAP", nameof(type));
        }
        var offsets = new int[lengths.Count + 1];
        var nulls = new bool[lengths.Count];
        for (var i = 0; i < lengths.Count; i++)
        {
            nulls[i] = lengths[i] is null;
            offsets[i + 1] = checked(offsets[i] + (lengths[i] ?? 0));
        }
        if (offsets[^1] > child.Length)
        {
            throw new ArgumentException($"the lists need {offsets[^1]} child entries, the child has {child.Length}", nameof(child));
        }
        return new ColumnVector(type, lengths.Count, validity: Validity(nulls), offsets: offsets, children: [child]);
    }

    /// <summary>A MAP column from its keys and values (entry vectors of equal length).</summary>
    public static ColumnVector Map(DuckType type, IReadOnlyList<int?> lengths, ColumnVector keys, ColumnVector values)
    {
        if (type.Id != DuckTypeId.Map)
        {
            throw new ArgumentException($"{type} is not a MAP", nameof(type));
        }
        var entries = new ColumnVector(MapEntryType(type), keys.Length, children: [keys, values]);
        return List(type, lengths, entries);
    }

    /// <summary>The STRUCT(key, value) type of a MAP's child vector.</summary>
    public static DuckType MapEntryType(DuckType mapType) => DuckType.Struct(mapType.Fields);

    /// <summary>A STRUCT column of <paramref name="length"/> rows from one child per field.</summary>
    public static ColumnVector Struct(DuckType type, int length, ColumnVector[] children, ulong[]? validity = null)
    {
        if (type.Id != DuckTypeId.Struct || children.Length != type.Fields.Length)
        {
            throw new ArgumentException($"{type} needs {type.Fields.Length} children", nameof(children));
        }
        return new ColumnVector(type, length, validity: validity, children: children);
    }

    /// <summary>An ARRAY column: the child holds <c>length * ArraySize</c> entries.</summary>
    public static ColumnVector Array(DuckType type, int length, ColumnVector child, ulong[]? validity = null)
    {
        if (type.Id != DuckTypeId.Array || (long)length * type.ArraySize > child.Length)
        {
            throw new ArgumentException($"{type} of {length} rows needs {(long)length * type.ArraySize} child entries", nameof(child));
        }
        return new ColumnVector(type, length, validity: validity, children: [child]);
    }

    /// <summary>A UNION column: row i has member <paramref name="tags"/>[i] (null is a NULL row); members hold one entry per row.</summary>
    public static ColumnVector Union(DuckType type, IReadOnlyList<byte?> tags, ColumnVector[] members)
    {
        if (type.Id != DuckTypeId.Union || members.Length != type.Fields.Length)
        {
            throw new ArgumentException($"{type} needs {type.Fields.Length} members", nameof(members));
        }
        var tagVector = Fixed(DuckType.Of(DuckTypeId.UTinyInt), tags);
        var children = new ColumnVector[members.Length + 1];
        children[0] = tagVector;
        members.CopyTo(children, 1);
        return new ColumnVector(type, tags.Count, validity: tagVector.Validity, children: children);
    }

    /// <summary>A column of <paramref name="length"/> NULLs of any type (children, offsets and storage sized to match).</summary>
    public static ColumnVector Nulls(DuckType type, int length)
    {
        var validity = new ulong[ColumnVector.ValidityWords(length)];
        return Empty(type, length, validity);
    }

    private static ColumnVector Empty(DuckType type, int length, ulong[]? validity)
    {
        switch (type.Id)
        {
            case DuckTypeId.List or DuckTypeId.Map:
                var child = Empty(type.Id == DuckTypeId.Map ? MapEntryType(type) : type.Element!, 0, null);
                return new ColumnVector(type, length, validity: validity, offsets: new int[length + 1], children: [child]);
            case DuckTypeId.Array:
                return new ColumnVector(type, length, validity: validity,
                    children: [Empty(type.Element!, checked(length * (int)type.ArraySize), null)]);
            case DuckTypeId.Struct:
                return new ColumnVector(type, length, validity: validity,
                    children: [.. type.Fields.Select(f => Empty(f.Type, length, null))]);
            case DuckTypeId.Union:
                return new ColumnVector(type, length, validity: validity,
                    children: [Empty(DuckType.Of(DuckTypeId.UTinyInt), length, validity), .. type.Fields.Select(f => Empty(f.Type, length, null))]);
            default:
                if (type.IsByteString)
                {
                    return new ColumnVector(type, length, validity: validity, offsets: new int[length + 1]);
                }
                return new ColumnVector(type, length, new byte[checked(length * type.FixedWidth)], validity);
        }
    }
}
