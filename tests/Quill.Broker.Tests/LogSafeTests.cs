namespace Quill.Broker.Tests;

public sealed class LogSafeTests
{
    [Theory]
    [InlineData("orders-consumer", "orders-consumer")]
    [InlineData(@"C:\path with spaces/é", @"C:\path with spaces/é")]
    [InlineData("a\nb", @"a\x0Ab")]
    [InlineData("a\r\nb", @"a\x0D\x0Ab")]
    [InlineData("\u001b[31mred", @"\x1B[31mred")]
    [InlineData("tab\there\0", @"tab\x09here\x00")]
    [InlineData("del\u007f nel\u0085", @"del\x7F nel\x85")]
    [InlineData("line\u2028para\u2029", @"line\u2028para\u2029")]
    [InlineData("abc\u202Efed\u2066x", @"abc\u202Efed\u2066x")]
    public void Control_and_layout_characters_are_escaped_and_the_rest_is_kept(string raw, string logged)
    {
        Assert.Equal(logged, LogSafe.Text(raw));
    }

    [Fact]
    public void Clean_text_comes_back_as_the_same_instance_and_null_stays_null()
    {
        string id = "consumer-1-" + Guid.NewGuid();
        Assert.Same(id, LogSafe.Text(id));
        Assert.Null(LogSafe.Text((string?)null));
    }
}
