using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Duckton.Core.Data;

/// <summary>
/// Compact, versioned binary encoding of <see cref="ResultSchema"/> and <see cref="ResultBatch"/>: the grid's wire format
/// for streaming typed results. The byte layout is specified in <c>docs/PROTOCOL.md</c>, "Batch encoding".
/// </summary>
/// <remarks>
/// Fixed-width storage and validity masks are copied as blocks (the format is little-endian, like DuckDB's memory).
/// Decoding is hardened: any input, however hostile, yields a value or a <see cref="CodecException"/>; every length and
/// count is checked against the bytes that remain and against <see cref="CodecLimits"/> before anything is allocated.
/// </remarks>
internal static partial class BatchCodec
{
    /// <summary>The format version written as the first byte of every schema and batch.</summary>
    public const byte Version = 1;

    // Vector flag byte: bit 0 says a validity mask follows. Other bits are reserved and must be zero.
    private const byte FlagHasValidity = 1;

    // UNION tags are one byte, so a union has at most 256 members.
    private const int MaxUnionMembers = 256;

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static readonly DuckType s_unionTagType = DuckType.Of(DuckTypeId.UTinyInt);

    static BatchCodec()
    {
        // Block copies assume the host stores integers as the wire does.
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("BatchCodec requires a little-endian platform");
        }
    }

    // ------------------------------------------------------------------ schema

    /// <summary>Writes <paramref name="schema"/> to <paramref name="output"/>.</summary>
    public static void EncodeSchema(ResultSchema schema, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(output);
        var w = new Writer(output);
        w.WriteByte(Version);
        w.WriteVarUInt((uint)schema.Count);
        for (var i = 0; i < schema.Count; i++)
        {
            w.WriteString(schema.Names[i]);
            WriteType(ref w, schema.Types[i]);
        }
        w.Flush();
    }

    /// <summary>The encoding of <paramref name="schema"/> as a new array.</summary>
    public static byte[] EncodeSchema(ResultSchema schema)
    {
        var buffer = new ArrayBufferWriter<byte>();
        EncodeSchema(schema, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a schema that fills <paramref name="data"/> exactly.</summary>
    /// <exception cref="CodecException">The bytes are not a valid schema encoding or exceed <paramref name="limits"/>.</exception>
    public static ResultSchema DecodeSchema(ReadOnlySpan<byte> data, CodecLimits? limits = null)
    {
        var r = new Reader(data, limits ?? CodecLimits.Default);
        r.ExpectVersion();
        var count = r.ReadCount(r.Limits.MaxColumns, "column count", 2);
        var names = new string[count];
        var types = new DuckType[count];
        for (var i = 0; i < count; i++)
        {
            names[i] = r.ReadString("column name");
            types[i] = ReadType(ref r, 1);
        }
        r.ExpectEnd();
        return new ResultSchema(names, types);
    }

    private static void WriteType(ref Writer w, DuckType type)
    {
        if (type.Id == DuckTypeId.Invalid)
        {
            throw new ArgumentException("a column cannot have the INVALID type", nameof(type));
        }
        w.WriteByte((byte)type.Id);
        switch (type.Id)
        {
            case DuckTypeId.Decimal:
                w.WriteByte(type.Width);
                w.WriteByte(type.Scale);
                break;
            case DuckTypeId.Enum:
                w.WriteVarUInt((uint)type.EnumValues.Length);
                foreach (var label in type.EnumValues)
                {
                    w.WriteString(label);
                }
                break;
            case DuckTypeId.List:
                WriteType(ref w, type.Element!);
                break;
            case DuckTypeId.Array:
                w.WriteVarUInt(type.ArraySize);
                WriteType(ref w, type.Element!);
                break;
            case DuckTypeId.Map:
                WriteType(ref w, type.Fields[0].Type);
                WriteType(ref w, type.Fields[1].Type);
                break;
            case DuckTypeId.Struct or DuckTypeId.Union:
                w.WriteVarUInt((uint)type.Fields.Length);
                foreach (var field in type.Fields)
                {
                    w.WriteString(field.Name);
                    WriteType(ref w, field.Type);
                }
                break;
        }
    }

    private static DuckType ReadType(ref Reader r, int depth)
    {
        if (depth > r.MaxDepth)
        {
            throw new CodecException($"type nesting deeper than {r.MaxDepth} levels");
        }
        var raw = r.ReadByte("type id");
        var id = (DuckTypeId)raw;
        switch (id)
        {
            case DuckTypeId.Decimal:
            {
                var width = r.ReadByte("decimal width");
                var scale = r.ReadByte("decimal scale");
                if (width is < 1 or > 38 || scale > width)
                {
                    throw new CodecException($"DECIMAL({width},{scale}) is not a valid decimal type");
                }
                return DuckType.Decimal(width, scale);
            }
            case DuckTypeId.Enum:
            {
                var count = r.ReadCount(r.Limits.MaxEnumValues, "enum dictionary size", 1);
                var labels = new string[count];
                for (var i = 0; i < count; i++)
                {
                    labels[i] = r.ReadString("enum label");
                }
                return DuckType.Enum(labels);
            }
            case DuckTypeId.List:
                return DuckType.List(ReadType(ref r, depth + 1));
            case DuckTypeId.Array:
            {
                var size = r.ReadVarUInt32("array size");
                if (size > r.Limits.MaxArraySize)
                {
                    throw new CodecException($"array size {size} exceeds the limit of {r.Limits.MaxArraySize}");
                }
                return DuckType.Array(ReadType(ref r, depth + 1), size);
            }
            case DuckTypeId.Map:
            {
                var key = ReadType(ref r, depth + 1);
                var value = ReadType(ref r, depth + 1);
                return DuckType.Map(key, value);
            }
            case DuckTypeId.Struct or DuckTypeId.Union:
            {
                var max = id == DuckTypeId.Union ? Math.Min(MaxUnionMembers, r.Limits.MaxFields) : r.Limits.MaxFields;
                var count = r.ReadCount(max, id == DuckTypeId.Union ? "union member count" : "struct field count", 2);
                var fields = new DuckField[count];
                for (var i = 0; i < count; i++)
                {
                    var name = r.ReadString("field name");
                    fields[i] = new DuckField(name, ReadType(ref r, depth + 1));
                }
                return id == DuckTypeId.Union ? DuckType.Union(fields) : DuckType.Struct(fields);
            }
            default:
                if (id == DuckTypeId.Invalid || !System.Enum.IsDefined(id))
                {
                    throw new CodecException($"unknown type id {raw}");
                }
                return DuckType.Of(id);
        }
    }

    // ------------------------------------------------------------------ batch

    /// <summary>Writes <paramref name="batch"/> (its rows, not its schema) to <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentException">A vector does not match its type's layout.</exception>
    public static void EncodeBatch(ResultBatch batch, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(output);
        var w = new Writer(output);
        w.WriteByte(Version);
        w.WriteVarUInt((uint)batch.RowCount);
        w.WriteVarUInt((uint)batch.Columns.Length);
        for (var c = 0; c < batch.Columns.Length; c++)
        {
            var column = batch.Columns[c];
            if (column.Length < batch.RowCount)
            {
                throw new ArgumentException($"column {c} has {column.Length} rows, the batch {batch.RowCount}", nameof(batch));
            }
            WriteVector(ref w, batch.Schema.Types[c], column, 0, batch.RowCount);
        }
        w.Flush();
    }

    /// <summary>The encoding of <paramref name="batch"/> as a new array.</summary>
    public static byte[] EncodeBatch(ResultBatch batch)
    {
        var buffer = new ArrayBufferWriter<byte>();
        EncodeBatch(batch, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a batch of <paramref name="schema"/> that fills <paramref name="data"/> exactly.</summary>
    /// <exception cref="CodecException">The bytes are not a valid batch of this schema or exceed <paramref name="limits"/>.</exception>
    public static ResultBatch DecodeBatch(ReadOnlySpan<byte> data, ResultSchema schema, CodecLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var r = new Reader(data, limits ?? CodecLimits.Default);
        var rows = ReadBatchHeader(ref r, schema);
        var columnCount = schema.Count;
        var columns = new ColumnVector[columnCount];
        for (var c = 0; c < columnCount; c++)
        {
            columns[c] = ReadVector(ref r, schema.Types[c], rows, 1);
        }
        r.ExpectEnd();
        return new ResultBatch(schema, columns, rows);
    }

    /// <summary>
    /// The row count of an encoded batch of <paramref name="schema"/>, read from its header without decoding its columns
    /// (for a holder that forwards the bytes as they are). Checks the version, the row count against
    /// <paramref name="limits"/>, the column count against the schema, and that a vector header can follow for every
    /// column; the columns themselves are checked by whoever decodes them.
    /// </summary>
    /// <exception cref="CodecException">The header is not a valid batch header of this schema.</exception>
    public static int ReadBatchRowCount(ReadOnlySpan<byte> data, ResultSchema schema, CodecLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var r = new Reader(data, limits ?? CodecLimits.Default);
        return ReadBatchHeader(ref r, schema);
    }

    /// <summary>A batch's version, row count and column count (which must be the schema's); returns the row count.</summary>
    private static int ReadBatchHeader(ref Reader r, ResultSchema schema)
    {
        r.ExpectVersion();
        var rows = r.ReadCount(r.Limits.MaxRowsPerBatch, "row count");
        var columnCount = r.ReadCount(r.Limits.MaxColumns, "column count", 1);
        if (columnCount != schema.Count)
        {
            throw new CodecException($"batch has {columnCount} columns, the schema {schema.Count}");
        }
        return rows;
    }

    // ------------------------------------------------------------------ vectors: encode

    /// <summary>Writes rows [start, start + count) of <paramref name="v"/>; child vectors are written for the entries those rows use.</summary>
    private static void WriteVector(ref Writer w, DuckType type, ColumnVector v, int start, int count)
    {
        var hasNulls = v.Validity is not null && AnyNull(v.Validity, start, count);
        w.WriteByte(hasNulls ? FlagHasValidity : (byte)0);
        if (hasNulls)
        {
            WriteValidity(ref w, v.Validity!, start, count);
        }

        switch (type.Id)
        {
            case DuckTypeId.List or DuckTypeId.Map:
            {
                // Entry lengths are kept for NULL rows too: they address child entries the slice carries along.
                var offsets = v.Offsets;
                for (var i = start; i < start + count; i++)
                {
                    w.WriteVarUInt((uint)(offsets[i + 1] - offsets[i]));
                }
                var childStart = offsets[start];
                var childCount = offsets[start + count] - childStart;
                var childType = type.Id == DuckTypeId.Map ? ColumnVectors.MapEntryType(type) : type.Element!;
                WriteVector(ref w, childType, v.Children[0], childStart, childCount);
                break;
            }
            case DuckTypeId.Array:
            {
                var size = (int)type.ArraySize;
                WriteVector(ref w, type.Element!, v.Children[0], checked(start * size), checked(count * size));
                break;
            }
            case DuckTypeId.Struct:
                for (var f = 0; f < type.Fields.Length; f++)
                {
                    WriteVector(ref w, type.Fields[f].Type, v.Children[f], start, count);
                }
                break;
            case DuckTypeId.Union:
                WriteVector(ref w, s_unionTagType, v.Children[0], start, count);
                for (var f = 0; f < type.Fields.Length; f++)
                {
                    WriteVector(ref w, type.Fields[f].Type, v.Children[f + 1], start, count);
                }
                break;
            default:
                if (type.IsByteString)
                {
                    WriteByteStrings(ref w, v, start, count, hasNulls);
                }
                else
                {
                    var width = type.FixedWidth;
                    w.WriteBytes(v.Fixed.AsSpan(start * width, count * width));
                }
                break;
        }
    }

    private static void WriteByteStrings(ref Writer w, ColumnVector v, int start, int count, bool hasNulls)
    {
        var offsets = v.Offsets;
        if (!hasNulls)
        {
            for (var i = start; i < start + count; i++)
            {
                w.WriteVarUInt((uint)(offsets[i + 1] - offsets[i]));
            }
            // Contiguous offsets: the values are one block.
            w.WriteBytes(v.Bytes.AsSpan(offsets[start], offsets[start + count] - offsets[start]));
            return;
        }
        // NULL rows are written as empty values.
        for (var i = start; i < start + count; i++)
        {
            w.WriteVarUInt(v.IsValid(i) ? (uint)(offsets[i + 1] - offsets[i]) : 0u);
        }
        for (var i = start; i < start + count; i++)
        {
            if (v.IsValid(i))
            {
                w.WriteBytes(v.GetBytes(i));
            }
        }
    }

    private static bool AnyNull(ulong[] validity, int start, int count)
    {
        var end = start + count;
        var i = start;
        while (i < end)
        {
            var word = i >> 6;
            var bit = i & 63;
            var take = Math.Min(64 - bit, end - i);
            var mask = (take == 64 ? ulong.MaxValue : ((1UL << take) - 1)) << bit;
            if ((validity[word] & mask) != mask)
            {
                return true;
            }
            i += take;
        }
        return false;
    }

    /// <summary>Writes validity bits [start, start + count) as <c>ceil(count / 8)</c> bytes, bit i of the slice at byte i/8, bit i%8; padding bits zero.</summary>
    private static void WriteValidity(ref Writer w, ulong[] validity, int start, int count)
    {
        var byteCount = (count + 7) >> 3;
        var shift = start & 63;
        var first = start >> 6;
        if (shift == 0 && (count & 7) == 0)
        {
            w.WriteBytes(MemoryMarshal.AsBytes(validity.AsSpan(first)).Slice(0, byteCount));
            return;
        }
        Span<byte> word = stackalloc byte[8];
        var written = 0;
        for (var k = 0; written < byteCount; k++)
        {
            // 64 bits of the slice, shifted down from the source words.
            var lo = validity[first + k] >> shift;
            var hi = shift != 0 && first + k + 1 < validity.Length ? validity[first + k + 1] << (64 - shift) : 0UL;
            var bits = lo | hi;
            var remainingBits = count - (k * 64);
            if (remainingBits < 64)
            {
                bits &= (1UL << remainingBits) - 1;
            }
            BinaryPrimitives.WriteUInt64LittleEndian(word, bits);
            var take = Math.Min(8, byteCount - written);
            w.WriteBytes(word[..take]);
            written += take;
        }
    }

    // ------------------------------------------------------------------ vectors: decode

    private static ColumnVector ReadVector(ref Reader r, DuckType type, int count, int depth)
    {
        if (depth > r.MaxDepth)
        {
            throw new CodecException($"type nesting deeper than {r.MaxDepth} levels");
        }
        r.ChargeValues(count);
        var flags = r.ReadByte("vector flags");
        if ((flags & ~FlagHasValidity) != 0)
        {
            throw new CodecException($"unknown vector flags 0x{flags:X2}");
        }
        var validity = (flags & FlagHasValidity) != 0 ? ReadValidity(ref r, count) : null;

        switch (type.Id)
        {
            case DuckTypeId.List or DuckTypeId.Map:
            {
                var offsets = ReadLengths(ref r, count, int.MaxValue, "list length");
                var childType = type.Id == DuckTypeId.Map ? ColumnVectors.MapEntryType(type) : type.Element!;
                var child = ReadVector(ref r, childType, offsets[count], depth + 1);
                return new ColumnVector(type, count, validity: validity, offsets: offsets, children: [child]);
            }
            case DuckTypeId.Array:
            {
                var childCount = (long)count * type.ArraySize;
                if (childCount > r.ValuesLeft || childCount > int.MaxValue)
                {
                    throw new CodecException($"{count} arrays of {type.ArraySize} exceed the value limit of {r.Limits.MaxTotalValues}");
                }
                var child = ReadVector(ref r, type.Element!, (int)childCount, depth + 1);
                return new ColumnVector(type, count, validity: validity, children: [child]);
            }
            case DuckTypeId.Struct:
            {
                var children = new ColumnVector[type.Fields.Length];
                for (var f = 0; f < children.Length; f++)
                {
                    children[f] = ReadVector(ref r, type.Fields[f].Type, count, depth + 1);
                }
                return new ColumnVector(type, count, validity: validity, children: children);
            }
            case DuckTypeId.Union:
            {
                var children = new ColumnVector[type.Fields.Length + 1];
                children[0] = ReadVector(ref r, s_unionTagType, count, depth + 1);
                for (var f = 0; f < type.Fields.Length; f++)
                {
                    children[f + 1] = ReadVector(ref r, type.Fields[f].Type, count, depth + 1);
                }
                var union = new ColumnVector(type, count, validity: validity, children: children);
                CheckUnionTags(union);
                return union;
            }
            default:
                if (type.IsByteString)
                {
                    return ReadByteStrings(ref r, type, count, validity);
                }
                var width = type.FixedWidth;
                var data = width == 0 ? [] : Copy(r.ReadBytes(checked((long)count * width), "fixed-width values"));
                var vector = new ColumnVector(type, count, data, validity);
                if (type.Id == DuckTypeId.Enum)
                {
                    CheckEnumIndexes(vector);
                }
                return vector;
        }
    }

    /// <summary>A copy in a fresh array that is not zeroed first (every byte is overwritten).</summary>
    private static byte[] Copy(ReadOnlySpan<byte> source)
    {
        var copy = GC.AllocateUninitializedArray<byte>(source.Length);
        source.CopyTo(copy);
        return copy;
    }

    private static ulong[] ReadValidity(ref Reader r, int count)
    {
        var bytes = r.ReadBytes((count + 7) >> 3, "validity mask");
        var words = new ulong[ColumnVector.ValidityWords(count)];
        bytes.CopyTo(MemoryMarshal.AsBytes(words.AsSpan()));
        if ((count & 7) != 0 && (bytes[^1] >> (count & 7)) != 0)
        {
            throw new CodecException("validity mask has bits set past the last row");
        }
        return words;
    }

    /// <summary>Reads <paramref name="count"/> varint lengths into offsets starting at 0, each at most <paramref name="maxEach"/>.</summary>
    private static int[] ReadLengths(ref Reader r, int count, int maxEach, string what)
    {
        // Each length takes at least one byte: check before allocating the offsets.
        if (count > r.Remaining)
        {
            throw new CodecException($"truncated input: {count} {what}s need at least {count} bytes, {r.Remaining} remain");
        }
        var offsets = GC.AllocateUninitializedArray<int>(count + 1);
        offsets[0] = 0;
        long total = 0;
        for (var i = 0; i < count; i++)
        {
            var length = r.ReadVarUInt32(what);
            if (length > (uint)maxEach)
            {
                throw new CodecException($"{what} {length} exceeds the limit of {maxEach}");
            }
            total += length;
            if (total > int.MaxValue)
            {
                throw new CodecException($"{what}s add up to more than {int.MaxValue}");
            }
            offsets[i + 1] = (int)total;
        }
        return offsets;
    }

    private static ColumnVector ReadByteStrings(ref Reader r, DuckType type, int count, ulong[]? validity)
    {
        var offsets = ReadLengths(ref r, count, r.Limits.MaxStringBytes, "string length");
        var bytes = Copy(r.ReadBytes(offsets[count], "string bytes"));
        var vector = new ColumnVector(type, count, validity: validity, offsets: offsets, bytes: bytes);
        if (type.Id == DuckTypeId.Varchar && validity is null && IsValidUtf8PerRow(bytes, offsets))
        {
            return vector;
        }
        for (var i = 0; i < count; i++)
        {
            if (!vector.IsValid(i))
            {
                continue;
            }
            var value = vector.GetBytes(i);
            switch (type.Id)
            {
                // DuckDB only holds valid UTF-8 in VARCHAR; a peer must not smuggle anything else in.
                case DuckTypeId.Varchar when !System.Text.Unicode.Utf8.IsValid(value):
                    throw new CodecException($"VARCHAR value in row {i} is not valid UTF-8");
                // BIT: a padding-count byte (0..7) and at least one data byte.
                case DuckTypeId.Bit when value.Length < 2 || value[0] > 7:
                    throw new CodecException($"BIT value in row {i} is malformed");
                // BIGNUM: a 3-byte header and at least one magnitude byte.
                case DuckTypeId.BigNum when value.Length < 4:
                    throw new CodecException($"BIGNUM value in row {i} is malformed");
                // GEOMETRY: exactly one well-formed WKB geometry, so DuckDB never reads past a peer's bytes.
                case DuckTypeId.Geometry when !Wkb.IsValid(value):
                    throw new CodecException($"GEOMETRY value in row {i} is not well-formed WKB");
            }
        }
        return vector;
    }

    /// <summary>
    /// Fast path for a column without NULLs: the whole buffer is valid UTF-8 and no value starts inside a character
    /// (a continuation byte), so every value on its own is valid UTF-8. False means "check row by row".
    /// </summary>
    private static bool IsValidUtf8PerRow(byte[] bytes, int[] offsets)
    {
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return false;
        }
        for (var i = 0; i < offsets.Length - 1; i++)
        {
            var start = offsets[i];
            if (start < bytes.Length && (bytes[start] & 0xC0) == 0x80)
            {
                return false;
            }
        }
        return true;
    }

    private static void CheckEnumIndexes(ColumnVector vector)
    {
        var size = (uint)vector.Type.EnumValues.Length;
        var data = vector.Fixed.AsSpan();
        for (var i = 0; i < vector.Length; i++)
        {
            if (!vector.IsValid(i))
            {
                continue;
            }
            var index = vector.Type.EnumIndexWidth switch
            {
                1 => data[i],
                2 => BinaryPrimitives.ReadUInt16LittleEndian(data[(i * 2)..]),
                _ => BinaryPrimitives.ReadUInt32LittleEndian(data[(i * 4)..]),
            };
            if (index >= size)
            {
                throw new CodecException($"ENUM index {index} in row {i} is outside the dictionary of {size}");
            }
        }
    }

    private static void CheckUnionTags(ColumnVector union)
    {
        var tags = union.Children[0];
        var members = union.Type.Fields.Length;
        for (var i = 0; i < union.Length; i++)
        {
            if (union.IsValid(i) && tags.IsValid(i) && tags.Fixed[i] >= members)
            {
                throw new CodecException($"UNION tag {tags.Fixed[i]} in row {i} names no member (there are {members})");
            }
        }
    }
}
