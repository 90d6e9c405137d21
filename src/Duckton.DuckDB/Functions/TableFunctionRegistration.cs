using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Duckton.Core.Data;
using Duckton.DuckDB.Native;

namespace Duckton.DuckDB.Functions;

/// <summary>
/// Registers <see cref="TableFunctionDefinition"/>s with DuckDB through the API table. The native callbacks here are
/// the only code DuckDB calls; each is exception-proof and reports failures through DuckDB's error setters.
/// </summary>
public static unsafe class TableFunctionRegistration
{
    /// <summary>Registers a function on a connection; it becomes visible to every connection of that database.</summary>
    public static void Register(nint connection, TableFunctionDefinition definition)
    {
        var api = DuckDBNative.Api;
        var function = api->duckdb_create_table_function();
        try
        {
            using (var name = new Utf8.Scoped(definition.Name))
            {
                api->duckdb_table_function_set_name(function, name.Pointer);
            }
            foreach (var p in definition.Positional)
            {
                var lt = LogicalTypes.ToNative(p.DuckType);
                api->duckdb_table_function_add_parameter(function, lt);
                LogicalTypes.Destroy(lt);
            }
            foreach (var p in definition.Named)
            {
                var lt = LogicalTypes.ToNative(p.DuckType);
                using var n = new Utf8.Scoped(p.Name);
                api->duckdb_table_function_add_named_parameter(function, n.Pointer, lt);
                LogicalTypes.Destroy(lt);
            }
            var handle = GCHandle.Alloc(definition);
            api->duckdb_table_function_set_extra_info(function, (void*)GCHandle.ToIntPtr(handle), FreeHandlePtr);
            api->duckdb_table_function_set_bind(function, (nint)(delegate* unmanaged[Cdecl]<nint, void>)&Bind);
            api->duckdb_table_function_set_init(function, (nint)(delegate* unmanaged[Cdecl]<nint, void>)&Init);
            api->duckdb_table_function_set_function(function, (nint)(delegate* unmanaged[Cdecl]<nint, nint, void>)&Scan);
            if (api->duckdb_register_table_function(connection, function) != DuckDBState.Success)
            {
                throw new DuckDBException($"DuckDB refused to register table function {definition.Name} (is the name taken?)");
            }
        }
        finally
        {
            api->duckdb_destroy_table_function(&function);
        }
    }

    /// <summary>The <c>duckdb_delete_callback_t</c> that frees a GCHandle DuckDB holds for us.</summary>
    public static nint FreeHandlePtr => (nint)(delegate* unmanaged[Cdecl]<void*, void>)&FreeHandle;

    /// <summary>Per-execution scan position: which batch, which row in it.</summary>
    private sealed class ScanState
    {
        public int Batch;
        public int Row;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void FreeHandle(void* handle)
    {
        try
        {
            var gc = GCHandle.FromIntPtr((nint)handle);
            var target = gc.Target;
            gc.Free();
            // Bind data that owns resources (a spilled result's temp file) is released with the query.
            (target as IDisposable)?.Dispose();
        }
        catch
        {
            // Nothing can be reported from a destructor callback; the handle is lost at worst.
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Bind(nint info)
    {
        var api = DuckDBNative.Api;
        try
        {
            var definition = (TableFunctionDefinition)GCHandle.FromIntPtr((nint)api->duckdb_bind_get_extra_info(info)).Target!;
            var arguments = ReadArguments(info, definition);
            ResultSet? result;
            if (definition.Interruptible && ClientInterrupt.ForBind(info) is { } probe)
            {
                using (probe)
                {
                    result = BindInterruptibly(definition, arguments, probe);
                }
                if (result is null)
                {
                    BindInterrupted(info);
                    return;
                }
            }
            else
            {
                result = definition.Bind(arguments);
            }
            if (result.Schema.Count == 0)
            {
                result.Dispose();
                throw new SqlFunctionException($"{definition.Name} produced no columns");
            }
            // DuckDB refuses repeated output names; name them as DuckDB names a subquery's columns (a, a_1, ...).
            var names = ColumnNames.Deduplicate(result.Schema.Names);
            for (var c = 0; c < result.Schema.Count; c++)
            {
                var lt = LogicalTypes.ToNative(result.Schema.Types[c]);
                using var name = new Utf8.Scoped(names[c]);
                api->duckdb_bind_add_result_column(info, name.Pointer, lt);
                LogicalTypes.Destroy(lt);
            }
            api->duckdb_bind_set_cardinality(info, (ulong)result.RowCount, 1);
            api->duckdb_bind_set_bind_data(info, (void*)GCHandle.ToIntPtr(GCHandle.Alloc(result)), FreeHandlePtr);
        }
        catch (Exception e)
        {
            SetError(info, e, &SetBindError);
        }
    }

    /// <summary>How often a waiting bind reads the interrupt flag: the bound on how late an interrupt is noticed.</summary>
    public static readonly TimeSpan InterruptPollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Runs <paramref name="definition"/>'s bind on another thread (<see cref="BindThreads"/>) while this (DuckDB's) thread waits in
    /// <see cref="InterruptPollInterval"/> slices, reading the connection's interrupt flag after each. Interrupted: the
    /// work's cancellation token is cancelled (a query interrupts its engine, a grid query sends Cancel to its hosts),
    /// and null is returned at once without waiting for the work to unwind; a result that still arrives is disposed.
    /// </summary>
    private static ResultSet? BindInterruptibly(TableFunctionDefinition definition, TableFunctionArguments arguments, ClientInterrupt.Probe probe)
    {
        if (probe.IsInterrupted)
        {
            return null;
        }
        // Not disposed on the interrupted path: the abandoned work may still link to or register on its token.
        var cancel = new CancellationTokenSource();
        var work = BindThreads.Run(() => definition.Bind(arguments.WithCancellation(cancel.Token)));
        while (!((IAsyncResult)work).AsyncWaitHandle.WaitOne(InterruptPollInterval))
        {
            if (probe.IsInterrupted)
            {
                cancel.Cancel();
                work.ContinueWith(static t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        t.Result.Dispose(); // a spilled result's file goes with it
                    }
                    else
                    {
                        _ = t.Exception; // observed: the expected cancellation, or a failure nobody waits for any more
                    }
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                return null;
            }
        }
        cancel.Dispose();
        var result = work.GetAwaiter().GetResult(); // rethrows the bind's own exception
        work.Dispose(); // releases the wait handle the slices used
        return result;
    }

    /// <summary>Bind data of a statement interrupted during bind: no rows, ever.</summary>
    private sealed class InterruptedBind;

    /// <summary>
    /// Ends an interrupted bind so that DuckDB reports its own interrupt: the bind succeeds with a placeholder column,
    /// and the client context's interrupt flag (still set: it is cleared only when the next statement starts) makes
    /// DuckDB's optimizer, or at the latest its executor before the first chunk, throw <c>INTERRUPT Error: Interrupted!</c>
    /// as it does for any other interrupted statement. Should a scan still run, it fails rather than return nothing.
    /// </summary>
    private static void BindInterrupted(nint info)
    {
        var api = DuckDBNative.Api;
        var lt = LogicalTypes.ToNative(DuckType.Varchar);
        using (var name = new Utf8.Scoped("interrupted"))
        {
            api->duckdb_bind_add_result_column(info, name.Pointer, lt);
        }
        LogicalTypes.Destroy(lt);
        api->duckdb_bind_set_cardinality(info, 0, 1);
        api->duckdb_bind_set_bind_data(info, (void*)GCHandle.ToIntPtr(GCHandle.Alloc(new InterruptedBind())), FreeHandlePtr);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Init(nint info)
    {
        var api = DuckDBNative.Api;
        try
        {
            api->duckdb_init_set_init_data(info, (void*)GCHandle.ToIntPtr(GCHandle.Alloc(new ScanState())), FreeHandlePtr);
        }
        catch (Exception e)
        {
            SetError(info, e, &SetInitError);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Scan(nint info, nint output)
    {
        var api = DuckDBNative.Api;
        try
        {
            if (GCHandle.FromIntPtr((nint)api->duckdb_function_get_bind_data(info)).Target is not ResultSet result)
            {
                throw new SqlFunctionException("Interrupted!");
            }
            var state = (ScanState)GCHandle.FromIntPtr((nint)api->duckdb_function_get_init_data(info)).Target!;
            var capacity = (int)api->duckdb_vector_size();
            var filled = 0;
            var columns = (int)api->duckdb_data_chunk_get_column_count(output);
            while (filled < capacity && state.Batch < result.Batches.Count)
            {
                var batch = result.Batches[state.Batch];
                var take = Math.Min(capacity - filled, batch.RowCount - state.Row);
                for (var c = 0; c < columns; c++)
                {
                    VectorWriter.Write(batch.Columns[c], state.Row, take, api->duckdb_data_chunk_get_vector(output, (ulong)c), filled);
                }
                filled += take;
                state.Row += take;
                if (state.Row >= batch.RowCount)
                {
                    state.Batch++;
                    state.Row = 0;
                }
            }
            api->duckdb_data_chunk_set_size(output, (ulong)filled);
        }
        catch (Exception e)
        {
            SetError(info, e, &SetFunctionError);
        }
    }

    private static void SetBindError(nint info, byte* message) => DuckDBNative.Api->duckdb_bind_set_error(info, message);
    private static void SetInitError(nint info, byte* message) => DuckDBNative.Api->duckdb_init_set_error(info, message);
    private static void SetFunctionError(nint info, byte* message) => DuckDBNative.Api->duckdb_function_set_error(info, message);

    private static void SetError(nint info, Exception e, delegate*<nint, byte*, void> setter)
    {
        try
        {
            using var message = new Utf8.Scoped(e is SqlFunctionException or DuckDBException ? e.Message : $"{e.GetType().Name}: {e.Message}");
            setter(info, message.Pointer);
        }
        catch
        {
            // Out of memory while reporting: nothing more can be done without crossing into native code.
        }
    }

    private static TableFunctionArguments ReadArguments(nint info, TableFunctionDefinition definition)
    {
        var api = DuckDBNative.Api;
        var positional = new object?[definition.Positional.Count];
        for (var i = 0; i < positional.Length; i++)
        {
            var value = api->duckdb_bind_get_parameter(info, (ulong)i);
            positional[i] = ParameterValues.Read(value, definition.Positional[i]);
        }
        var named = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var p in definition.Named)
        {
            using var n = new Utf8.Scoped(p.Name);
            var value = api->duckdb_bind_get_named_parameter(info, n.Pointer);
            if (value != 0)
            {
                named[p.Name] = ParameterValues.Read(value, p);
            }
        }
        return new TableFunctionArguments(positional, named);
    }
}
