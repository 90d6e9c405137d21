using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Duckton.Core.Data;

namespace Duckton.Core.Hashing;

/// <summary>
/// The canonical byte encoding of schemas and values used by <see cref="CanonicalResultHash"/>
/// (docs/PROTOCOL.md, "Canonical result hash"). All integers are little-endian.
/// </summary>
internal static class CanonicalEncoding
{
    /// <summary>The tag of a NULL cell; every non-NULL cell starts with its type id, which is never 0.</summary>
    public const byte NullTag = 0;

    /// <summary>UTF-8 that throws on lone surrogates, so two different .NET strings never encode alike.</summary>
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static byte[] Utf8(string s) => s_strictUtf8.GetBytes(s);

    /// <summary>string(s) = u32 byte length ‖ UTF-8 bytes.</summary>
    public static void WriteString(IBufferWriter<byte> w, string s)
    {
        var bytes = Utf8(s);
        WriteU32(w, (uint)bytes.Length);
        w.Write(bytes);
    }

    public static void WriteU8(IBufferWriter<byte> w, byte value)
    {
        w.GetSpan(1)[0] = value;
        w.Advance(1);
    }

    public static void WriteU32(IBufferWriter<byte> w, uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(w.GetSpan(4), value);
        w.Advance(4);
    }

    public static void WriteU64(IBufferWriter<byte> w, ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(w.GetSpan(8), value);
        w.Advance(8);
    }

    /// <summary>schema = u32 column count ‖ per column: string(name) ‖ type.</summary>
    public static void WriteSchema(IBufferWriter<byte> w, ResultSchema schema)
    {
        WriteU32(w, (uint)schema.Count);
        for (var i = 0; i < schema.Count; i++)
        {
            WriteString(w, schema.Names[i]);
            WriteType(w, schema.Types[i]);
        }
    }

    /// <summary>type = u8 type id ‖ parameters (decimal width/scale, enum labels, children, array size).</summary>
    public static void WriteType(IBufferWriter<byte> w, DuckType type)
    {
        CheckSupported(type.Id);
        WriteU8(w, (byte)type.Id);
        switch (type.Id)
        {
            case DuckTypeId.Decimal:
                WriteU8(w, type.Width);
                WriteU8(w, type.Scale);
                break;
            case DuckTypeId.Enum:
                WriteU32(w, (uint)type.EnumValues.Length);
                foreach (var label in type.EnumValues)
                {
                    WriteString(w, label);
                }
                break;
            case DuckTypeId.List:
                WriteType(w, type.Element!);
                break;
            case DuckTypeId.Array:
                WriteU32(w, type.ArraySize);
                WriteType(w, type.Element!);
                break;
            case DuckTypeId.Map:
                WriteType(w, type.Fields[0].Type);
                WriteType(w, type.Fields[1].Type);
                break;
            case DuckTypeId.Struct or DuckTypeId.Union:
                WriteU32(w, (uint)type.Fields.Length);
                foreach (var field in type.Fields)
                {
                    WriteString(w, field.Name);
                    WriteType(w, field.Type);
                }
                break;
        }
    }

    public static void CheckSupported(DuckTypeId id)
    {
        if (id is DuckTypeId.Invalid or DuckTypeId.Any || !System.Enum.IsDefined(id))
        {
            throw new NotSupportedException($"type {id} cannot appear in a result and has no canonical encoding");
        }
    }
}

/// <summary>
/// Encodes the cells of one column (and, recursively, nested values). Every cell is
/// <c>0x00</c> for NULL or <c>type id ‖ body</c>, and every body is self-delimiting given the type,
/// so a row (the cells of its columns in order) parses back uniquely: the encoding is injective.
/// </summary>
internal abstract class CellCodec
{
    protected CellCodec(DuckType type)
    {
        Type = type;
        Tag = (byte)type.Id;
    }

    public DuckType Type { get; }

    /// <summary>The first byte of every non-NULL cell: the DuckDB type id.</summary>
    public byte Tag { get; }

    public static CellCodec For(DuckType type)
    {
        CanonicalEncoding.CheckSupported(type.Id);
        return type.Id switch
        {
            DuckTypeId.Boolean => new FixedCodec<byte, BooleanBody>(type),
            DuckTypeId.TinyInt or DuckTypeId.UTinyInt => new FixedCodec<byte, RawBody<byte>>(type),
            DuckTypeId.SmallInt or DuckTypeId.USmallInt => new FixedCodec<ushort, RawBody<ushort>>(type),
            DuckTypeId.Integer or DuckTypeId.UInteger or DuckTypeId.Date => new FixedCodec<uint, RawBody<uint>>(type),
            DuckTypeId.BigInt or DuckTypeId.UBigInt or DuckTypeId.Time or DuckTypeId.TimeNs or DuckTypeId.TimeTz
                or DuckTypeId.Timestamp or DuckTypeId.TimestampS or DuckTypeId.TimestampMs or DuckTypeId.TimestampNs
                or DuckTypeId.TimestampTz => new FixedCodec<ulong, RawBody<ulong>>(type),
            DuckTypeId.HugeInt or DuckTypeId.UHugeInt or DuckTypeId.Interval => new FixedCodec<UInt128, RawBody<UInt128>>(type),
            DuckTypeId.Float => new FixedCodec<uint, FloatBody>(type),
            DuckTypeId.Double => new FixedCodec<ulong, DoubleBody>(type),
            DuckTypeId.Decimal => new FixedCodec<Int128, DecimalBody>(type),
            DuckTypeId.Uuid => new FixedCodec<UInt128, UuidBody>(type),
            DuckTypeId.Enum => new EnumCodec(type),
            DuckTypeId.Varchar or DuckTypeId.Blob or DuckTypeId.Bit or DuckTypeId.BigNum or DuckTypeId.Geometry => new ByteStringCodec(type),
            DuckTypeId.List => new ListCodec(type, For(type.Element!)),
            // A MAP is physically LIST(STRUCT(key, value)) and is encoded exactly like that list.
            DuckTypeId.Map => new ListCodec(type, For(DuckType.Struct(type.Fields))),
            DuckTypeId.Array => new ArrayCodec(type, For(type.Element!)),
            DuckTypeId.Struct => new StructCodec(type, [.. type.Fields.Select(f => For(f.Type))]),
            DuckTypeId.Union => new UnionCodec(type, [.. type.Fields.Select(f => For(f.Type))]),
            DuckTypeId.SqlNull => new SqlNullCodec(type),
            _ => throw new NotSupportedException($"type {type} has no canonical encoding"),
        };
    }

    /// <summary>Encoded size of row <paramref name="row"/>'s cell, tag included.</summary>
    public abstract int Measure(ColumnVector v, int row);

    /// <summary>Writes row <paramref name="row"/>'s cell at the start of <paramref name="dst"/>; returns its size.</summary>
    public abstract int Write(ColumnVector v, int row, Span<byte> dst);

    /// <summary>Adds the cell size of rows start..start+count to <paramref name="lengths"/>.</summary>
    public virtual void MeasureColumn(ColumnVector v, int start, int count, Span<int> lengths)
    {
        for (var i = 0; i < count; i++)
        {
            lengths[i] += Measure(v, start + i);
        }
    }

    /// <summary>Writes the cells of rows start..start+count, row i at <c>cursors[i]</c>, advancing each cursor.</summary>
    public virtual void WriteColumn(ColumnVector v, int start, int count, Span<byte> buffer, Span<int> cursors)
    {
        for (var i = 0; i < count; i++)
        {
            cursors[i] += Write(v, start + i, buffer[cursors[i]..]);
        }
    }

    protected static void CheckRows(ColumnVector v, int end)
    {
        if (v.Length < end || (v.Validity is not null && v.Validity.Length < ColumnVector.ValidityWords(end)))
        {
            throw new InvalidDataException($"{v.Type} vector of {v.Length} rows (validity {v.Validity?.Length} words) is too short for {end} rows");
        }
    }
}

/// <summary>How a fixed-width stored value becomes its canonical body (a struct, so the row loop is specialised, not virtual).</summary>
internal interface IFixedBody<TBody>
    where TBody : unmanaged
{
    static abstract TBody Body(ReadOnlySpan<byte> stored);
}

/// <summary>Fixed-width values: a <typeparamref name="TBody"/>-sized little-endian body after the tag.</summary>
internal sealed class FixedCodec<TBody, TRule>(DuckType type) : CellCodec(type)
    where TBody : unmanaged
    where TRule : struct, IFixedBody<TBody>
{
    private static int BodySize => Unsafe.SizeOf<TBody>();

    private readonly int _storageWidth = type.FixedWidth;

    public override int Measure(ColumnVector v, int row) => v.IsValid(row) ? 1 + BodySize : 1;

    public override int Write(ColumnVector v, int row, Span<byte> dst)
    {
        if (!v.IsValid(row))
        {
            dst[0] = CanonicalEncoding.NullTag;
            return 1;
        }
        var body = TRule.Body(v.Fixed.AsSpan(row * _storageWidth, _storageWidth));
        dst[0] = Tag;
        MemoryMarshal.Write(dst[1..], in body);
        return 1 + BodySize;
    }

    public override void MeasureColumn(ColumnVector v, int start, int count, Span<int> lengths)
    {
        CheckRows(v, start + count);
        lengths = lengths[..count];
        var cell = 1 + BodySize;
        if (v.Validity is null)
        {
            foreach (ref var l in lengths)
            {
                l += cell;
            }
            return;
        }
        for (var i = 0; i < lengths.Length; i++)
        {
            lengths[i] += v.IsValid(start + i) ? cell : 1;
        }
    }

    public override void WriteColumn(ColumnVector v, int start, int count, Span<byte> buffer, Span<int> cursors)
    {
        // The hot loop of the canonical hash: one tag byte and one unaligned store per row. Reads are
        // bounds-checked by the slices; writes by the explicit check.
        CheckRows(v, start + count);
        var w = _storageWidth;
        var stored = v.Fixed.AsSpan(start * w, count * w);
        cursors = cursors[..count];
        ref var dst = ref MemoryMarshal.GetReference(buffer);
        var validity = v.Validity;
        var tag = Tag;
        for (var i = 0; i < cursors.Length; i++)
        {
            var c = cursors[i];
            if (validity is null || (validity[(start + i) >> 6] & (1UL << ((start + i) & 63))) != 0)
            {
                if ((uint)c + (uint)(1 + BodySize) > (uint)buffer.Length)
                {
                    ThrowOverflow();
                }
                Unsafe.Add(ref dst, c) = tag;
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, c + 1), TRule.Body(stored.Slice(i * w, w)));
                cursors[i] = c + 1 + BodySize;
            }
            else
            {
                buffer[c] = CanonicalEncoding.NullTag;
                cursors[i] = c + 1;
            }
        }
    }

    private static void ThrowOverflow() => throw new InvalidOperationException("row encoding exceeded its measured size");
}

/// <summary>Integers, temporals, intervals: the stored little-endian bytes as they are.</summary>
internal readonly struct RawBody<T> : IFixedBody<T>
    where T : unmanaged
{
    public static T Body(ReadOnlySpan<byte> stored) => MemoryMarshal.Read<T>(stored);
}

/// <summary>BOOLEAN: one byte, 0 or 1.</summary>
internal readonly struct BooleanBody : IFixedBody<byte>
{
    public static byte Body(ReadOnlySpan<byte> stored) => stored[0] != 0 ? (byte)1 : (byte)0;
}

/// <summary>FLOAT: IEEE bits with every NaN as 0x7FC00000 and -0 as +0.</summary>
internal readonly struct FloatBody : IFixedBody<uint>
{
    public static uint Body(ReadOnlySpan<byte> stored) => Canonical(MemoryMarshal.Read<uint>(stored));

    public static uint Canonical(uint bits) =>
        (bits & 0x7FFFFFFF) > 0x7F800000 ? 0x7FC00000u // any NaN
        : bits == 0x80000000 ? 0u                      // -0
        : bits;
}

/// <summary>DOUBLE: IEEE bits with every NaN as 0x7FF8000000000000 and -0 as +0.</summary>
internal readonly struct DoubleBody : IFixedBody<ulong>
{
    public static ulong Body(ReadOnlySpan<byte> stored) => Canonical(MemoryMarshal.Read<ulong>(stored));

    public static ulong Canonical(ulong bits) =>
        (bits & 0x7FFFFFFFFFFFFFFF) > 0x7FF0000000000000 ? 0x7FF8000000000000ul
        : bits == 0x8000000000000000 ? 0ul
        : bits;
}

/// <summary>DECIMAL: the unscaled integer sign-extended to 128-bit two's complement, whatever DuckDB's storage width.</summary>
internal readonly struct DecimalBody : IFixedBody<Int128>
{
    public static Int128 Body(ReadOnlySpan<byte> stored) => stored.Length switch
    {
        2 => MemoryMarshal.Read<short>(stored),
        4 => MemoryMarshal.Read<int>(stored),
        8 => MemoryMarshal.Read<long>(stored),
        _ => MemoryMarshal.Read<Int128>(stored),
    };
}

/// <summary>UUID: the 16 bytes in RFC 9562 (textual) order. DuckDB stores it as a hugeint with the top bit flipped.</summary>
internal readonly struct UuidBody : IFixedBody<UInt128>
{
    public static UInt128 Body(ReadOnlySpan<byte> stored)
    {
        var lower = BinaryPrimitives.ReadUInt64LittleEndian(stored);
        var upper = BinaryPrimitives.ReadUInt64LittleEndian(stored[8..]) ^ 0x8000000000000000UL;
        // The body is stored little-endian, so reverse the value to lay its bytes out big-endian.
        return BinaryPrimitives.ReverseEndianness(new UInt128(upper, lower));
    }
}

/// <summary>ENUM: the label as a string (u32 length ‖ UTF-8), never the dictionary index.</summary>
internal sealed class EnumCodec : CellCodec
{
    private readonly byte[][] _labels;
    private readonly int _indexWidth;

    public EnumCodec(DuckType type)
        : base(type)
    {
        _indexWidth = type.EnumIndexWidth;
        _labels = [.. type.EnumValues.Select(label =>
        {
            var utf8 = CanonicalEncoding.Utf8(label);
            var encoded = new byte[4 + utf8.Length];
            BinaryPrimitives.WriteUInt32LittleEndian(encoded, (uint)utf8.Length);
            utf8.CopyTo(encoded, 4);
            return encoded;
        })];
    }

    private byte[] Label(ColumnVector v, int row)
    {
        var stored = v.Fixed.AsSpan(row * _indexWidth, _indexWidth);
        var index = _indexWidth switch
        {
            1 => stored[0],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(stored),
            _ => (long)BinaryPrimitives.ReadUInt32LittleEndian(stored),
        };
        if (index >= _labels.Length)
        {
            throw new InvalidDataException($"enum index {index} is outside the {_labels.Length}-label dictionary of {Type}");
        }
        return _labels[index];
    }

    public override int Measure(ColumnVector v, int row) => v.IsValid(row) ? 1 + Label(v, row).Length : 1;

    public override int Write(ColumnVector v, int row, Span<byte> dst)
    {
        if (!v.IsValid(row))
        {
            dst[0] = CanonicalEncoding.NullTag;
            return 1;
        }
        var label = Label(v, row);
        dst[0] = Tag;
        label.CopyTo(dst[1..]);
        return 1 + label.Length;
    }
}

/// <summary>VARCHAR, BLOB, BIT, BIGNUM: u32 byte length ‖ the stored bytes (no Unicode or other normalisation).</summary>
internal sealed class ByteStringCodec(DuckType type) : CellCodec(type)
{
    public override int Measure(ColumnVector v, int row) => v.IsValid(row) ? 1 + 4 + v.GetBytes(row).Length : 1;

    public override int Write(ColumnVector v, int row, Span<byte> dst)
    {
        if (!v.IsValid(row))
        {
            dst[0] = CanonicalEncoding.NullTag;
            return 1;
        }
        var bytes = v.GetBytes(row);
        dst[0] = Tag;
        BinaryPrimitives.WriteUInt32LittleEndian(dst[1..], (uint)bytes.Length);
        bytes.CopyTo(dst[5..]);
        return 5 + bytes.Length;
    }
}

/// <summary>LIST (and MAP): u32 element count ‖ each element's cell.</summary>
internal sealed class ListCodec(DuckType type, CellCodec element) : CellCodec(type)
{
    private ColumnVector Child(ColumnVector v) => v.Children.Length == 1
        ? v.Children[0]
        : throw new InvalidDataException($"{Type} vector needs exactly one child vector, has {v.Children.Length}");

    public override int Measure(ColumnVector v, int row)
    {
        if (!v.IsValid(row))
        {
            return 1;
        }
        var (first, count) = v.GetListRange(row);
        var child = Child(v);
        var size = 1 + 4;
        for (var i = 0; i < count; i++)
        {
            size += element.Measure(child, first + i);
        }
        return size;
    }

    public override int Write(ColumnVector v, int row, Span<byte> dst)
    {
        if (!v.IsValid(row))
        {
            dst[0] = CanonicalEncoding.NullTag;
            return 1;
        }
        var (first, count) = v.GetListRange(row);
        if (count < 0)
        {
            throw new InvalidDataException($"{Type} row {row} has a negative length");
        }
        var child = Child(v);
        dst[0] = Tag;
        BinaryPrimitives.WriteUInt32LittleEndian(dst[1..], (uint)count);
        var size = 5;
        for (var i = 0; i < count; i++)
        {
            size += element.Write(child, first + i, dst[size..]);
        }
        return size;
    }
}

/// <summary>ARRAY: exactly ArraySize element cells (the size is in the type, so no count).</summary>
internal sealed class ArrayCodec(DuckType type, CellCodec element) : CellCodec(type)
{
    private readonly int _size = checked((int)type.ArraySize);

    private ColumnVector Child(ColumnVector v) => v.Children.Length == 1
        ? v.Children[0]
        : throw new InvalidDataException($"{Type} vector needs exactly one child vector, has {v.Children.Length}");

    public override int Measure(ColumnVector v, int row)
    {
        if (!v.IsValid(row))
        {
            return 1;
        }
        var child = Child(v);
        var size = 1;
        for (var i = 0; i < _size; i++)
        {
            size += element.Measure(child, (row * _size) + i);
        }
        return size;
    }

    public override int Write(ColumnVector v, int row, Span<byte> dst)
    {
        if (!v.IsValid(row))
        {
            dst[0] = CanonicalEncoding.NullTag;
            return 1;
        }
        var child = Child(v);
        dst[0] = Tag;
        var size = 1;
        for (var i = 0; i < _size; i++)
        {
            size += element.Write(child, (row * _size) + i, dst[size..]);
        }
        return size;
    }
}

/// <summary>STRUCT: each field's cell in declaration order (a struct whose fields are all NULL is not NULL).</summary>
internal sealed class StructCodec(DuckType type, CellCodec[] fields) : CellCodec(type)
{
    private ColumnVector[] Children(ColumnVector v) => v.Children.Length == fields.Length
        ? v.Children
        : throw new InvalidDataException($"{Type} vector needs {fields.Length} child vectors, has {v.Children.Length}");

    public override int Measure(ColumnVector v, int row)
    {
        if (!v.IsValid(row))
        {
            return 1;
        }
        var children = Children(v);
        var size = 1;
        for (var f = 0; f < fields.Length; f++)
        {
            size += fields[f].Measure(children[f], row);
        }
        return size;
    }

    public override int Write(ColumnVector v, int row, Span<byte> dst)
    {
        if (!v.IsValid(row))
        {
            dst[0] = CanonicalEncoding.NullTag;
            return 1;
        }
        var children = Children(v);
        dst[0] = Tag;
        var size = 1;
        for (var f = 0; f < fields.Length; f++)
        {
            size += fields[f].Write(children[f], row, dst[size..]);
        }
        return size;
    }
}

/// <summary>UNION: u8 member index ‖ the selected member's cell.</summary>
internal sealed class UnionCodec(DuckType type, CellCodec[] members) : CellCodec(type)
{
    private (ColumnVector Member, int Index) Selected(ColumnVector v, int row)
    {
        if (v.Children.Length != members.Length + 1)
        {
            throw new InvalidDataException($"{Type} vector needs {members.Length + 1} child vectors (tag + members), has {v.Children.Length}");
        }
        int index = v.Children[0].Fixed[row];
        if (index >= members.Length)
        {
            throw new InvalidDataException($"{Type} row {row} selects member {index} of {members.Length}");
        }
        return (v.Children[1 + index], index);
    }

    public override int Measure(ColumnVector v, int row)
    {
        if (!v.IsValid(row))
        {
            return 1;
        }
        var (member, index) = Selected(v, row);
        return 2 + members[index].Measure(member, row);
    }

    public override int Write(ColumnVector v, int row, Span<byte> dst)
    {
        if (!v.IsValid(row))
        {
            dst[0] = CanonicalEncoding.NullTag;
            return 1;
        }
        var (member, index) = Selected(v, row);
        dst[0] = Tag;
        dst[1] = (byte)index;
        return 2 + members[index].Write(member, row, dst[2..]);
    }
}

/// <summary>The "NULL" type: every value is NULL.</summary>
internal sealed class SqlNullCodec(DuckType type) : CellCodec(type)
{
    public override int Measure(ColumnVector v, int row) => 1;

    public override int Write(ColumnVector v, int row, Span<byte> dst)
    {
        dst[0] = CanonicalEncoding.NullTag;
        return 1;
    }
}
