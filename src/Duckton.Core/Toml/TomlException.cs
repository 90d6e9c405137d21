namespace Duckton.Core.Toml;

/// <summary>A TOML document is not valid TOML 1.0.0. The message starts with <c>source:line:column:</c>.</summary>
internal sealed class TomlException : FormatException
{
    public TomlException(string? sourceName, TomlPosition position, string problem)
        : base(Format(sourceName, position, problem))
    {
        SourceName = sourceName;
        Position = position;
        Problem = problem;
    }

    public TomlException()
    {
        Problem = "invalid TOML";
    }

    public TomlException(string message) : base(message)
    {
        Problem = message;
    }

    public TomlException(string message, Exception innerException) : base(message, innerException)
    {
        Problem = message;
    }

    /// <summary>File name or other label of the document, if one was given.</summary>
    public string? SourceName { get; }

    /// <summary>Where the problem is (1-based line and column).</summary>
    public TomlPosition Position { get; }

    /// <summary>What is wrong, without the location prefix.</summary>
    public string Problem { get; }

    private static string Format(string? sourceName, TomlPosition position, string problem)
        => $"{sourceName ?? "<toml>"}:{position.Line}:{position.Column}: {problem}";
}
