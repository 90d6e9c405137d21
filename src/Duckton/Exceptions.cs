namespace Duckton;

/// <summary>The base of every error the library raises on purpose.</summary>
public class DucktonException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DucktonException() { }

    /// <summary>Creates the exception with a message.</summary>
    public DucktonException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public DucktonException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>A query that failed: its SQL was wrong, the grid could not answer, or the hosts disagreed.</summary>
public class QueryFailedException : DucktonException
{
    /// <summary>Creates the exception.</summary>
    public QueryFailedException() : this("the query failed", new QueryVerification()) { }

    /// <summary>Creates the exception with a message.</summary>
    public QueryFailedException(string message) : this(message, new QueryVerification()) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public QueryFailedException(string message, Exception? innerException) : this(message, new QueryVerification(), innerException) { }

    /// <summary>Creates the exception with the failed query's metadata.</summary>
    public QueryFailedException(string message, QueryVerification verification, Exception? innerException = null) : base(message, innerException) =>
        Verification = verification ?? throw new ArgumentNullException(nameof(verification));

    /// <summary>What is known about the failed query (job id, where it ran, hosts that were rejected...).</summary>
    public QueryVerification Verification { get; }
}

/// <summary>The grid could not gather a quorum of agreeing hosts (too few eligible hosts, or they disagreed).</summary>
public sealed class QuorumNotReachedException : QueryFailedException
{
    /// <summary>Creates the exception.</summary>
    public QuorumNotReachedException() { }

    /// <summary>Creates the exception with a message.</summary>
    public QuorumNotReachedException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public QuorumNotReachedException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception with the failed query's metadata.</summary>
    public QuorumNotReachedException(string message, QueryVerification verification, Exception? innerException = null) : base(message, verification, innerException) { }
}

/// <summary>A command of the SQL surface (join, share, block, config set...) refused its arguments or failed.</summary>
public sealed class DucktonCommandException : DucktonException
{
    /// <summary>Creates the exception.</summary>
    public DucktonCommandException() { }

    /// <summary>Creates the exception with a message.</summary>
    public DucktonCommandException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public DucktonCommandException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>The node's configuration is invalid (an unknown key, a value out of range, two sources that disagree).</summary>
public sealed class DucktonConfigurationException : DucktonException
{
    /// <summary>Creates the exception.</summary>
    public DucktonConfigurationException() { }

    /// <summary>Creates the exception with a message.</summary>
    public DucktonConfigurationException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public DucktonConfigurationException(string message, Exception? innerException) : base(message, innerException) { }
}
