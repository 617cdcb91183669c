//! Formatter tests: the canonical layout, comments kept, idempotence, and that
//! formatting never changes the program.

use super::format;

#[test]
fn lays_out_a_messy_file() {
    let messy = "// header comment\n\n\n\nschema   A{\n id:Int,\n      name :String? // trailing\n  address:{street:String,city:String}\n tags:[ String ]\n}\nschema B {x: Int}\nconnection erp:http\nmap m( a:A )->B{\n      x=a.id*-1+ 2\n  /// doc\n}\nflow f{\ntrigger every 15m\n    read erp.get( \"/a\" ) as [A]\n  where a=>a.id>0 and not(a.name==null)\n map m\n write erp.post(\"/b\")\n on error retry 3 backoff 2s then dead_letter\n}\n";
    let expected = "// header comment\n\nschema A {\n  id: Int,\n  name: String? // trailing\n  address: { street: String, city: String }\n  tags: [String]\n}\n\nschema B { x: Int }\n\nconnection erp: http\n\nmap m(a: A) -> B {\n  x = a.id * -1 + 2\n  /// doc\n}\n\nflow f {\n  trigger every 15m\n  read erp.get(\"/a\") as [A]\n  where a => a.id > 0 and not (a.name == null)\n  map m\n  write erp.post(\"/b\")\n  on error retry 3 backoff 2s then dead_letter\n}\n";
    assert_eq!(format(messy).as_deref(), Some(expected));
    assert_eq!(format(expected).as_deref(), Some(expected));
}

#[test]
fn continuation_lines_are_indented_one_more_level() {
    let source = "map m(a: A) -> B {\nType = if a.x == \"R\" then \"Reseller\"\nelse \"Direct\"\nTotal = a.x +\na.y\nList = join([a.a,\na.b], \",\")\n}\n";
    let expected = "map m(a: A) -> B {\n  Type  = if a.x == \"R\" then \"Reseller\"\n    else \"Direct\"\n  Total = a.x +\n    a.y\n  List  = join([a.a,\n      a.b], \",\")\n}\n";
    assert_eq!(format(source).as_deref(), Some(expected));
}

#[test]
fn files_with_syntax_errors_are_left_alone() {
    assert_eq!(format("schema A { x Int }\n"), None);
}

#[test]
fn empty_files_stay_empty() {
    assert_eq!(format("").as_deref(), Some(""));
    assert_eq!(format("\n\n").as_deref(), Some(""));
}

#[test]
fn assignments_on_consecutive_lines_align() {
    let source = "map m(a: A) -> B {\n  Name = a.name\n  AccountNumber = a.number\n  Type = if a.x then \"A\"\n    else \"B\"\n  `Odd-Name` = 1\n\n  Short = 2\n  Longer.path = 3\n}\n";
    let expected = "map m(a: A) -> B {\n  Name          = a.name\n  AccountNumber = a.number\n  Type          = if a.x then \"A\"\n    else \"B\"\n  `Odd-Name`    = 1\n\n  Short       = 2\n  Longer.path = 3\n}\n";
    assert_eq!(format(source).as_deref(), Some(expected));
    assert_eq!(format(expected).as_deref(), Some(expected));
}

#[test]
fn clock_lines_are_laid_out_like_other_test_lines() {
    let source = "test \"t\" {\nclock   \"2025-06-01\"\n   property m\n    clock \"2025-06-02T09:30:00Z\"\nproperty m\n}\n";
    let expected = "test \"t\" {\n  clock \"2025-06-01\"\n  property m\n  clock \"2025-06-02T09:30:00Z\"\n  property m\n}\n";
    assert_eq!(format(source).as_deref(), Some(expected));
    assert_eq!(format(expected).as_deref(), Some(expected));
}
