using Duckton.Core.Data;
using Duckton.DuckDB.Native;

namespace Duckton.DuckDB;

/// <summary>Copies rows of a <see cref="ColumnVector"/> into a DuckDB output vector, for every type, nested and with NULLs.</summary>
public static unsafe class VectorWriter
{
    /// <summary>Writes <paramref name="count"/> rows starting at <paramref name="srcStart"/> into <paramref name="dst"/> at <paramref name="dstStart"/>.</summary>
    public static void Write(ColumnVector src, int srcStart, int count, nint dst, int dstStart)
    {
        if (count == 0)
        {
            return;
        }
        var api = DuckDBNative.Api;
        WriteValidity(src, srcStart, count, dst, dstStart);
        var type = src.Type;
        switch (type.Id)
        {
            case DuckTypeId.Varchar or DuckTypeId.Blob or DuckTypeId.Bit or DuckTypeId.BigNum or DuckTypeId.Geometry:
            {
                var slots = (DuckDBStringT*)api->duckdb_vector_get_data(dst);
                fixed (byte* bytes = src.Bytes)
                {
                    for (var i = 0; i < count; i++)
                    {
                        var row = srcStart + i;
                        if (!src.IsValid(row))
                        {
                            continue;
                        }
                        var start = src.Offsets[row];
                        var length = src.Offsets[row + 1] - start;
                        if (length <= DuckDBStringT.InlineLength)
                        {
                            // Short strings live inside the 16-byte string_t itself: write it in place, zero-padded
                            // as DuckDB keeps it (its equality compares all 16 bytes). No heap, no call per value.
                            // The bytes came from DuckDB, so they are already valid UTF-8 for VARCHAR.
                            var slot = slots + dstStart + i;
                            *slot = default;
                            slot->Length = (uint)length;
                            Buffer.MemoryCopy(bytes + start, (byte*)slot + 4, DuckDBStringT.InlineLength, length);
                        }
                        else
                        {
                            api->duckdb_vector_assign_string_element_len(dst, (ulong)(dstStart + i), bytes + start, (ulong)length);
                        }
                    }
                }
                break;
            }
            case DuckTypeId.List or DuckTypeId.Map:
            {
                var child = api->duckdb_list_vector_get_child(dst);
                var existing = (int)api->duckdb_list_vector_get_size(dst);
                var childStart = src.Offsets[srcStart];
                var total = src.Offsets[srcStart + count] - childStart;
                if (api->duckdb_list_vector_reserve(dst, (ulong)(existing + total)) != DuckDBState.Success)
                {
                    throw new DuckDBException("cannot reserve list storage in the output vector");
                }
                Write(src.Children[0], childStart, total, child, existing);
                if (api->duckdb_list_vector_set_size(dst, (ulong)(existing + total)) != DuckDBState.Success)
                {
                    throw new DuckDBException("cannot size the list child of the output vector");
                }
                var entries = (DuckDBListEntry*)api->duckdb_vector_get_data(dst);
                for (var i = 0; i < count; i++)
                {
                    var row = srcStart + i;
                    entries[dstStart + i] = new DuckDBListEntry
                    {
                        Offset = (ulong)(existing + src.Offsets[row] - childStart),
                        Length = (ulong)(src.Offsets[row + 1] - src.Offsets[row]),
                    };
                }
                break;
            }
            case DuckTypeId.Array:
            {
                var size = (int)type.ArraySize;
                Write(src.Children[0], srcStart * size, count * size, api->duckdb_array_vector_get_child(dst), dstStart * size);
                break;
            }
            case DuckTypeId.Struct or DuckTypeId.Union:
                for (var c = 0; c < src.Children.Length; c++)
                {
                    Write(src.Children[c], srcStart, count, api->duckdb_struct_vector_get_child(dst, (ulong)c), dstStart);
                }
                break;
            case DuckTypeId.SqlNull:
                break;
            default:
            {
                var width = type.FixedWidth;
                var data = (byte*)api->duckdb_vector_get_data(dst);
                fixed (byte* s = src.Fixed)
                {
                    Buffer.MemoryCopy(s + ((long)srcStart * width), data + ((long)dstStart * width), (long)count * width, (long)count * width);
                }
                break;
            }
        }
    }

    private static void WriteValidity(ColumnVector src, int srcStart, int count, nint dst, int dstStart)
    {
        var validity = src.Validity;
        if (validity is null)
        {
            return;
        }
        ulong* mask = null;
        for (var i = 0; i < count; i++)
        {
            var row = srcStart + i;
            if ((validity[row >> 6] & (1UL << (row & 63))) != 0)
            {
                continue;
            }
            if (mask == null)
            {
                // Only made writable on the first NULL: all-valid vectors keep DuckDB's fast path.
                DuckDBNative.Api->duckdb_vector_ensure_validity_writable(dst);
                mask = DuckDBNative.Api->duckdb_vector_get_validity(dst);
            }
            var d = dstStart + i;
            mask[d >> 6] &= ~(1UL << (d & 63));
        }
    }
}
