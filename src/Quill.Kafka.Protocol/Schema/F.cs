namespace Quill.Kafka.Protocol.Schema;

/// <summary>
/// The field vocabulary of message descriptions; meant for <c>using static</c>. Version strings are as in
/// Kafka's specs ("0+", "3-7").
/// </summary>
public static class F
{
    public static Field Bool(string name, string versions, bool @default = false) =>
        new Field(name, FieldKind.Bool, false, versions, null).Default(@default ? 1 : 0);
    public static Field Int8(string name, string versions, sbyte @default = 0) => new Field(name, FieldKind.Int8, false, versions, null).Default(@default);
    public static Field Int16(string name, string versions, short @default = 0) => new Field(name, FieldKind.Int16, false, versions, null).Default(@default);
    public static Field UInt16(string name, string versions, ushort @default = 0) => new Field(name, FieldKind.UInt16, false, versions, null).Default(@default);
    public static Field Int32(string name, string versions, int @default = 0) => new Field(name, FieldKind.Int32, false, versions, null).Default(@default);
    public static Field UInt32(string name, string versions, uint @default = 0) => new Field(name, FieldKind.UInt32, false, versions, null).Default(@default);
    public static Field Int64(string name, string versions, long @default = 0) => new Field(name, FieldKind.Int64, false, versions, null).Default(@default);
    public static Field Float64(string name, string versions) => new(name, FieldKind.Float64, false, versions, null);
    public static Field Uuid(string name, string versions) => new(name, FieldKind.Uuid, false, versions, null);
    public static Field String(string name, string versions) => new(name, FieldKind.String, false, versions, null);
    /// <summary>
    /// A string that is nullable in <paramref name="nullable"/> versions and defaults to null: for spec fields with
    /// "default": "null". A nullable field without that default defaults to "" in Kafka; write it
    /// <c>String(...).Nullable(...)</c>.
    /// </summary>
    public static Field NullableString(string name, string versions, string nullable) =>
        String(name, versions).Nullable(nullable).DefaultsToNull();
    public static Field Bytes(string name, string versions) => new(name, FieldKind.Bytes, false, versions, null);
    public static Field Records(string name, string versions) => new(name, FieldKind.Records, false, versions, null);

    public static Field Struct(string name, string versions, params Field[] fields) =>
        new(name, FieldKind.Struct, false, versions, new StructSchema(name, fields));
    public static Field Array(string name, string versions, params Field[] fields) =>
        new(name, FieldKind.Struct, true, versions, new StructSchema(name, fields));

    public static Field Int16Array(string name, string versions) => new(name, FieldKind.Int16, true, versions, null);
    public static Field Int32Array(string name, string versions) => new(name, FieldKind.Int32, true, versions, null);
    public static Field Int64Array(string name, string versions) => new(name, FieldKind.Int64, true, versions, null);
    public static Field StringArray(string name, string versions) => new(name, FieldKind.String, true, versions, null);
    public static Field UuidArray(string name, string versions) => new(name, FieldKind.Uuid, true, versions, null);
}
