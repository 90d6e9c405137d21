using System.Runtime.CompilerServices;
using Duckton.Core.Data;
using Duckton.DuckDB.Native;

namespace Duckton.DuckDB;

/// <summary>Copies flat DuckDB vectors into managed <see cref="ColumnVector"/>s, for every type, nested and with NULLs.</summary>
public static unsafe class VectorReader
{
    /// <summary>Which source rows to read: a contiguous range, or an explicit selection.</summary>
    private readonly struct Rows(int start, int count, int[]? selection)
    {
        public readonly int Start = start;
        public readonly int Count = count;
        public readonly int[]? Selection = selection;

        public int this[int i]
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Selection is null ? Start + i : Selection[i];
        }
    }

    /// <summary>Reads rows 0..count of a (borrowed) vector of the given type.</summary>
    public static ColumnVector Read(nint vector, DuckType type, int count) => Read(vector, type, new Rows(0, count, null));

    private static ColumnVector Read(nint vector, DuckType type, Rows rows)
    {
        var api = DuckDBNative.Api;
        var validity = ReadValidity(api->duckdb_vector_get_validity(vector), rows);
        var data = (byte*)api->duckdb_vector_get_data(vector);
        var count = rows.Count;
        switch (type.Id)
        {
            case DuckTypeId.Varchar or DuckTypeId.Blob or DuckTypeId.Bit or DuckTypeId.BigNum or DuckTypeId.Geometry:
                return ReadByteStrings(type, (DuckDBStringT*)data, rows, validity);
            case DuckTypeId.List or DuckTypeId.Map:
            {
                var entries = (DuckDBListEntry*)data;
                var offsets = new int[count + 1];
                var contiguous = true;
                var first = -1L;
                long expected = 0;
                var total = 0;
                for (var i = 0; i < count; i++)
                {
                    offsets[i] = total;
                    if (!IsValid(validity, i))
                    {
                        continue;
                    }
                    var e = entries[rows[i]];
                    if (first < 0)
                    {
                        first = (long)e.Offset;
                        expected = first;
                    }
                    contiguous &= (long)e.Offset == expected;
                    expected = (long)e.Offset + (long)e.Length;
                    total = checked(total + (int)e.Length);
                }
                offsets[count] = total;
                Rows childRows;
                if (contiguous)
                {
                    childRows = new Rows(first < 0 ? 0 : (int)first, total, null);
                }
                else
                {
                    var sel = new int[total];
                    var k = 0;
                    for (var i = 0; i < count; i++)
                    {
                        if (!IsValid(validity, i))
                        {
                            continue;
                        }
                        var e = entries[rows[i]];
                        for (var j = 0UL; j < e.Length; j++)
                        {
                            sel[k++] = (int)(e.Offset + j);
                        }
                    }
                    childRows = new Rows(0, total, sel);
                }
                var childType = type.Id == DuckTypeId.List ? type.Element! : DuckType.Struct(type.Fields);
                var child = Read(api->duckdb_list_vector_get_child(vector), childType, childRows);
                return new ColumnVector(type, count, validity: validity, offsets: offsets, children: [child]);
            }
            case DuckTypeId.Array:
            {
                var size = (int)type.ArraySize;
                Rows childRows;
                if (rows.Selection is null)
                {
                    childRows = new Rows(rows.Start * size, count * size, null);
                }
                else
                {
                    var sel = new int[count * size];
                    for (var i = 0; i < count; i++)
                    {
                        for (var j = 0; j < size; j++)
                        {
                            sel[(i * size) + j] = (rows[i] * size) + j;
                        }
                    }
                    childRows = new Rows(0, sel.Length, sel);
                }
                var child = Read(api->duckdb_array_vector_get_child(vector), type.Element!, childRows);
                return new ColumnVector(type, count, validity: validity, children: [child]);
            }
            case DuckTypeId.Struct:
            {
                var children = new ColumnVector[type.Fields.Length];
                for (var c = 0; c < children.Length; c++)
                {
                    children[c] = Read(api->duckdb_struct_vector_get_child(vector, (ulong)c), type.Fields[c].Type, rows);
                }
                return new ColumnVector(type, count, validity: validity, children: children);
            }
            case DuckTypeId.Union:
            {
                // Physically a STRUCT whose first child is the UTINYINT member tag.
                var children = new ColumnVector[type.Fields.Length + 1];
                children[0] = Read(api->duckdb_struct_vector_get_child(vector, 0), DuckType.Of(DuckTypeId.UTinyInt), rows);
                for (var c = 1; c < children.Length; c++)
                {
                    children[c] = Read(api->duckdb_struct_vector_get_child(vector, (ulong)c), type.Fields[c - 1].Type, rows);
                }
                return new ColumnVector(type, count, validity: validity, children: children);
            }
            case DuckTypeId.SqlNull:
                return new ColumnVector(type, count, validity: new ulong[ColumnVector.ValidityWords(count)]);
            default:
            {
                var width = type.FixedWidth;
                if (width == 0)
                {
                    throw new NotSupportedException($"type {type} cannot be read");
                }
                var bytes = GC.AllocateUninitializedArray<byte>(count * width);
                fixed (byte* dst = bytes)
                {
                    if (rows.Selection is null)
                    {
                        Buffer.MemoryCopy(data + ((long)rows.Start * width), dst, bytes.Length, (long)count * width);
                    }
                    else
                    {
                        for (var i = 0; i < count; i++)
                        {
                            Buffer.MemoryCopy(data + ((long)rows[i] * width), dst + ((long)i * width), width, width);
                        }
                    }
                }
                return new ColumnVector(type, count, fixedData: bytes, validity: validity);
            }
        }
    }

    private static ColumnVector ReadByteStrings(DuckType type, DuckDBStringT* strings, Rows rows, ulong[]? validity)
    {
        var count = rows.Count;
        var offsets = new int[count + 1];
        long total = 0;
        for (var i = 0; i < count; i++)
        {
            offsets[i] = (int)total;
            if (IsValid(validity, i))
            {
                total += strings[rows[i]].Length;
            }
        }
        if (total > int.MaxValue)
        {
            throw new DuckDBException("a single result chunk holds more than 2 GiB of string data");
        }
        offsets[count] = (int)total;
        var bytes = GC.AllocateUninitializedArray<byte>((int)total);
        fixed (byte* dst = bytes)
        {
            for (var i = 0; i < count; i++)
            {
                var len = offsets[i + 1] - offsets[i];
                if (len == 0)
                {
                    continue;
                }
                var s = strings + rows[i];
                var src = len <= DuckDBStringT.InlineLength ? (byte*)s + 4 : (byte*)s->Pointer;
                Buffer.MemoryCopy(src, dst + offsets[i], len, len);
            }
        }
        return new ColumnVector(type, count, validity: validity, offsets: offsets, bytes: bytes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsValid(ulong[]? validity, int row) => validity is null || (validity[row >> 6] & (1UL << (row & 63))) != 0;

    /// <summary>Copies the validity bits of the selected rows; null when every row is valid.</summary>
    private static ulong[]? ReadValidity(ulong* mask, Rows rows)
    {
        if (mask == null)
        {
            return null;
        }
        var count = rows.Count;
        var words = new ulong[ColumnVector.ValidityWords(count)];
        var allValid = true;
        if (rows.Selection is null && (rows.Start & 63) == 0)
        {
            var baseWord = rows.Start >> 6;
            for (var w = 0; w < words.Length; w++)
            {
                var bits = mask[baseWord + w];
                var remaining = count - (w << 6);
                if (remaining < 64)
                {
                    bits &= (1UL << remaining) - 1;
                    allValid &= bits == (1UL << remaining) - 1;
                }
                else
                {
                    allValid &= bits == ulong.MaxValue;
                }
                words[w] = bits;
            }
        }
        else
        {
            for (var i = 0; i < count; i++)
            {
                var src = rows[i];
                if ((mask[src >> 6] & (1UL << (src & 63))) != 0)
                {
                    words[i >> 6] |= 1UL << (i & 63);
                }
                else
                {
                    allValid = false;
                }
            }
        }
        return allValid ? null : words;
    }
}
