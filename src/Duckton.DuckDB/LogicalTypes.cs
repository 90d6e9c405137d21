using Duckton.Core.Data;
using Duckton.DuckDB.Native;

namespace Duckton.DuckDB;

/// <summary>Converts between DuckDB's <c>duckdb_logical_type</c> and <see cref="DuckType"/>.</summary>
public static unsafe class LogicalTypes
{
    /// <summary>Reads a (borrowed) logical type into a <see cref="DuckType"/>.</summary>
    public static DuckType ToDuckType(nint logicalType)
    {
        var api = DuckDBNative.Api;
        var id = (DuckTypeId)api->duckdb_get_type_id(logicalType);
        switch (id)
        {
            case DuckTypeId.Decimal:
                return DuckType.Decimal(api->duckdb_decimal_width(logicalType), api->duckdb_decimal_scale(logicalType));
            case DuckTypeId.Enum:
            {
                var size = (int)api->duckdb_enum_dictionary_size(logicalType);
                var values = new string[size];
                for (var i = 0; i < size; i++)
                {
                    var s = api->duckdb_enum_dictionary_value(logicalType, (ulong)i);
                    values[i] = Utf8.ToManaged(s) ?? "";
                    api->duckdb_free(s);
                }
                return DuckType.Enum(values);
            }
            case DuckTypeId.List:
                return DuckType.List(WithChild(api->duckdb_list_type_child_type(logicalType)));
            case DuckTypeId.Array:
                return DuckType.Array(WithChild(api->duckdb_array_type_child_type(logicalType)), (uint)api->duckdb_array_type_array_size(logicalType));
            case DuckTypeId.Map:
                return DuckType.Map(WithChild(api->duckdb_map_type_key_type(logicalType)), WithChild(api->duckdb_map_type_value_type(logicalType)));
            case DuckTypeId.Struct:
            {
                var n = (int)api->duckdb_struct_type_child_count(logicalType);
                var fields = new DuckField[n];
                for (var i = 0; i < n; i++)
                {
                    var name = api->duckdb_struct_type_child_name(logicalType, (ulong)i);
                    fields[i] = new DuckField(Utf8.ToManaged(name) ?? "", WithChild(api->duckdb_struct_type_child_type(logicalType, (ulong)i)));
                    api->duckdb_free(name);
                }
                return DuckType.Struct(fields);
            }
            case DuckTypeId.Union:
            {
                var n = (int)api->duckdb_union_type_member_count(logicalType);
                var members = new DuckField[n];
                for (var i = 0; i < n; i++)
                {
                    var name = api->duckdb_union_type_member_name(logicalType, (ulong)i);
                    members[i] = new DuckField(Utf8.ToManaged(name) ?? "", WithChild(api->duckdb_union_type_member_type(logicalType, (ulong)i)));
                    api->duckdb_free(name);
                }
                return DuckType.Union(members);
            }
            case (DuckTypeId)41:
                // VARIANT's values live in an internal nested layout that the C API neither documents nor gives
                // functions for (the stable v1.2.0 function table has none), so duckton cannot carry them faithfully.
                throw new NotSupportedException("VARIANT (DuckDB type id 41) cannot be carried by duckton: DuckDB's C API gives no access to VARIANT values; cast the column in the query, e.g. v::JSON or v::VARCHAR");
            case DuckTypeId.Invalid or DuckTypeId.Any:
                throw new NotSupportedException($"DuckDB type id {(int)id} cannot be carried in a result");
            default:
                if (!Enum.IsDefined(id))
                {
                    throw new NotSupportedException($"DuckDB type id {(int)id} is not supported by duckton yet");
                }
                return DuckType.Of(id);
        }
    }

    /// <summary>Converts an owned child type handle and destroys it.</summary>
    private static DuckType WithChild(nint owned)
    {
        try
        {
            return ToDuckType(owned);
        }
        finally
        {
            DuckDBNative.Api->duckdb_destroy_logical_type(&owned);
        }
    }

    /// <summary>Creates an owned logical type; the caller destroys it with <see cref="Destroy"/>.</summary>
    public static nint ToNative(DuckType type)
    {
        var api = DuckDBNative.Api;
        switch (type.Id)
        {
            case DuckTypeId.Decimal:
                return api->duckdb_create_decimal_type(type.Width, type.Scale);
            case DuckTypeId.Enum:
            {
                var n = type.EnumValues.Length;
                var ptrs = new nint[n];
                try
                {
                    for (var i = 0; i < n; i++)
                    {
                        ptrs[i] = (nint)Utf8.ToNative(type.EnumValues[i]);
                    }
                    fixed (nint* p = ptrs)
                    {
                        return api->duckdb_create_enum_type((byte**)p, (ulong)n);
                    }
                }
                finally
                {
                    foreach (var p in ptrs)
                    {
                        Utf8.Free((byte*)p);
                    }
                }
            }
            case DuckTypeId.List:
            {
                var child = ToNative(type.Element!);
                try
                {
                    return api->duckdb_create_list_type(child);
                }
                finally
                {
                    Destroy(child);
                }
            }
            case DuckTypeId.Array:
            {
                var child = ToNative(type.Element!);
                try
                {
                    return api->duckdb_create_array_type(child, type.ArraySize);
                }
                finally
                {
                    Destroy(child);
                }
            }
            case DuckTypeId.Map:
            {
                var k = ToNative(type.Fields[0].Type);
                var v = ToNative(type.Fields[1].Type);
                try
                {
                    return api->duckdb_create_map_type(k, v);
                }
                finally
                {
                    Destroy(k);
                    Destroy(v);
                }
            }
            case DuckTypeId.Struct or DuckTypeId.Union:
            {
                var n = type.Fields.Length;
                var types = new nint[n];
                var names = new nint[n];
                try
                {
                    for (var i = 0; i < n; i++)
                    {
                        types[i] = ToNative(type.Fields[i].Type);
                        names[i] = (nint)Utf8.ToNative(type.Fields[i].Name);
                    }
                    fixed (nint* t = types)
                    fixed (nint* nm = names)
                    {
                        return type.Id == DuckTypeId.Struct
                            ? api->duckdb_create_struct_type(t, (byte**)nm, (ulong)n)
                            : api->duckdb_create_union_type(t, (byte**)nm, (ulong)n);
                    }
                }
                finally
                {
                    for (var i = 0; i < n; i++)
                    {
                        if (types[i] != 0)
                        {
                            Destroy(types[i]);
                        }
                        Utf8.Free((byte*)names[i]);
                    }
                }
            }
            default:
                return api->duckdb_create_logical_type((int)type.Id);
        }
    }

    public static void Destroy(nint logicalType)
    {
        if (logicalType != 0)
        {
            DuckDBNative.Api->duckdb_destroy_logical_type(&logicalType);
        }
    }
}
