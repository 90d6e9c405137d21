namespace Duckton.Node;

/// <summary>Bounded waits that leave nothing behind.</summary>
internal static class TaskWaits
{
    /// <summary>
    /// True when <paramref name="task"/> completes (in any state) within <paramref name="limit"/>; false when the limit
    /// passes or <paramref name="cancellationToken"/> fires first. The timer goes as soon as the wait ends: a
    /// <c>Task.Delay</c> raced with <c>WhenAny</c> stays queued for its whole limit and fires later, one timer and one
    /// thread-pool item per wait for a limit that almost never ends it.
    /// </summary>
    public static async Task<bool> Within(Task task, TimeSpan limit, CancellationToken cancellationToken = default)
    {
        await task.WaitAsync(limit, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return task.IsCompleted;
    }
}
