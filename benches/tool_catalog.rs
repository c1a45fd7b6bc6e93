//! A catalogue of 1,000 tools and a fixed set of queries with the tool
//! each should find, shared by the tool-search test (`tests/http/search.rs`)
//! and bench (`benches/tool_search.rs`).
//!
//! The tools are 50 kinds of object (a git branch, an invoice, a calendar
//! event, ...) times 20 operations (create, delete, share, ...), each with a
//! name such as `calendar_event_create`, a description that says what it
//! does in the words its object's users use, and parameters named as a
//! real tool would name them. Like a careful author's, each description
//! names its operation's common synonyms ("Deletes (removes, revokes,
//! erases) ..."), the same for every object. The queries are written the way an agent
//! phrases a need, mostly not in the tool's own words ("schedule a meeting",
//! not "create calendar event"), so they measure the ranking, not string
//! equality.

#![allow(dead_code)]

use serde_json::{Value, json};

/// (name, what it is, in the words its users use)
const OBJECTS: [(&str, &str); 50] = [
    ("file", "a file on disk, its contents and path"),
    ("directory", "a directory (folder) of files"),
    ("git_branch", "a git branch of a repository"),
    ("git_commit", "a git commit (a change recorded in a repository's history)"),
    ("pull_request", "a pull request (merge request) proposing code changes for review"),
    ("issue", "an issue (bug report or ticket) in a project's tracker"),
    ("release", "a software release with its version tag and changelog"),
    ("container", "a running Docker container"),
    ("container_image", "a Docker container image in a registry"),
    ("k8s_pod", "a Kubernetes pod running in a cluster"),
    ("k8s_deployment", "a Kubernetes deployment that keeps replicas of an application running"),
    ("dns_record", "a DNS record (A, CNAME, TXT) of a domain name"),
    ("storage_bucket", "an S3 object storage bucket"),
    ("queue_message", "a message on a message queue"),
    ("db_table", "a SQL database table and its schema"),
    ("db_row", "a row of a SQL database table"),
    ("user_account", "a user account with its login and profile"),
    ("team", "a team of people in an organization"),
    ("invoice", "an invoice billing a customer"),
    ("payment", "a payment (charge or refund) of money"),
    ("customer", "a customer record in the CRM"),
    ("order", "a shop order a customer placed"),
    ("product", "a product in the shop catalogue with its price and stock"),
    ("calendar_event", "a calendar event: a meeting or appointment at a time"),
    ("email", "an email message in a mailbox"),
    ("contact", "a contact in the address book, with phone number and email address"),
    ("chat_message", "a chat message in Slack"),
    ("chat_channel", "a chat channel (room) in Slack"),
    ("document", "a text document (word processor)"),
    ("spreadsheet", "a spreadsheet of cells, rows and formulas"),
    ("slide_deck", "a slide deck presentation"),
    ("image", "an image (photo, picture)"),
    ("video", "a video recording"),
    ("audio", "an audio recording (sound, podcast)"),
    ("note", "a personal note"),
    ("todo", "a todo item on a task list"),
    ("project", "a project with its milestones"),
    ("wiki_page", "a wiki page of the knowledge base"),
    ("bookmark", "a bookmarked web link (URL)"),
    ("secret", "a secret (password or credential) in the vault"),
    ("api_key", "an API key (access token) for a service"),
    ("certificate", "a TLS certificate for HTTPS"),
    ("firewall_rule", "a firewall rule allowing or blocking network traffic"),
    ("vm", "a virtual machine (cloud server instance)"),
    ("disk_snapshot", "a snapshot of a virtual disk"),
    ("backup", "a backup of data that can be restored"),
    ("log_stream", "a stream of application log lines"),
    ("alert", "a monitoring alert on a metric threshold"),
    ("dashboard", "a monitoring dashboard of charts"),
    ("webhook", "a webhook: an HTTP callback a service calls on events"),
];

/// A parameter: (name, description).
type Parameter = (&'static str, &'static str);

/// (operation, what it does to "{}", its parameters)
const OPERATIONS: [(&str, &str, &[Parameter]); 20] = [
    (
        "create",
        "Creates (adds, opens, posts, schedules) a new {} from the given fields.",
        &[("fields", "The new object's fields.")],
    ),
    (
        "get",
        "Gets (shows, fetches, looks up) {} by its identifier, with all its details.",
        &[("id", "Its identifier.")],
    ),
    (
        "update",
        "Updates (changes, edits, modifies) fields of {}; fields not given stay as they are.",
        &[("id", "Its identifier."), ("fields", "The fields to change.")],
    ),
    (
        "delete",
        "Deletes (removes, revokes, erases) {} permanently; this cannot be undone.",
        &[("id", "Its identifier.")],
    ),
    (
        "list",
        "Lists every {}, newest first, a page at a time.",
        &[("limit", "How many per page."), ("cursor", "Where the last page ended.")],
    ),
    (
        "search",
        "Searches (finds, queries) each {} matching a text query.",
        &[("query", "Words to look for.")],
    ),
    ("archive", "Archives {}: hides it from lists but keeps it.", &[("id", "Its identifier.")]),
    (
        "restore",
        "Restores (recovers, undeletes) {} that was archived or deleted recently.",
        &[("id", "Its identifier.")],
    ),
    (
        "export",
        "Exports (downloads) {} to a file in CSV, JSON or PDF format.",
        &[("id", "Its identifier."), ("format", "csv, json or pdf.")],
    ),
    ("import", "Imports (uploads, loads) {} from a file.", &[("file", "The file to read.")]),
    (
        "share",
        "Shares {} with another person, giving them view or edit permission (access).",
        &[
            ("id", "Its identifier."),
            ("with_user", "Who to share with."),
            ("permission", "view or edit."),
        ],
    ),
    (
        "move",
        "Moves {} to another folder, project or location.",
        &[("id", "Its identifier."), ("destination", "Where to move it.")],
    ),
    ("copy", "Copies (duplicates, clones) {}.", &[("id", "Its identifier.")]),
    (
        "rename",
        "Renames {}: gives it a new name.",
        &[("id", "Its identifier."), ("new_name", "The new name.")],
    ),
    (
        "tag",
        "Tags (labels) {} so it can be grouped and filtered.",
        &[("id", "Its identifier."), ("labels", "The labels to add.")],
    ),
    (
        "comment",
        "Comments on {}: adds a remark or reply for others to read.",
        &[("id", "Its identifier."), ("text", "The comment.")],
    ),
    ("lock", "Locks {} so nobody can change (edit) it.", &[("id", "Its identifier.")]),
    ("unlock", "Unlocks {} so it can be changed again.", &[("id", "Its identifier.")]),
    (
        "watch",
        "Watches {}: notifies (alerts) you whenever it changes.",
        &[("id", "Its identifier.")],
    ),
    ("summarize", "Summarizes {} in a few sentences.", &[("id", "Its identifier.")]),
];

/// The 1,000 tools, as (name, MCP `Tool` definition).
pub fn tools() -> Vec<(String, Value)> {
    let mut tools = Vec::with_capacity(OBJECTS.len() * OPERATIONS.len());
    for (object, what) in OBJECTS {
        for (operation, does, parameters) in OPERATIONS {
            let name = format!("{object}_{operation}");
            let properties: serde_json::Map<String, Value> = parameters
                .iter()
                .map(|(p, d)| (p.to_string(), json!({"type": "string", "description": d})))
                .collect();
            let definition = json!({
                "name": name,
                "description": does.replace("{}", what),
                "inputSchema": {"type": "object", "properties": properties},
            });
            tools.push((name, definition));
        }
    }
    tools
}

/// Queries an agent might send, each with the one tool that answers it.
/// Each names what to do: a query that names no action ("phone number of
/// a contact") has the same words in common with all 20 tools of its
/// object, and BM25 then ranks the shortest description first
/// (`contact_summarize`); a lexical ranking cannot do better.
pub const QUERIES: [(&str, &str); 30] = [
    ("schedule a meeting", "calendar_event_create"),
    ("remove the old branch from the repository", "git_branch_delete"),
    ("open a bug report ticket", "issue_create"),
    ("move a file to another folder", "file_move"),
    ("give a colleague edit access to the spreadsheet", "spreadsheet_share"),
    ("find emails about the quarterly report", "email_search"),
    ("download an invoice as pdf", "invoice_export"),
    ("unlock the spreadsheet", "spreadsheet_unlock"),
    ("list running docker containers", "container_list"),
    ("add a TXT record to my domain", "dns_record_create"),
    ("rename a folder", "directory_rename"),
    ("store a new password in the vault", "secret_create"),
    ("revoke an access token", "api_key_delete"),
    ("add a rule to block traffic from an address", "firewall_rule_create"),
    ("take a new snapshot of the disk", "disk_snapshot_create"),
    ("restore data from a backup", "backup_restore"),
    ("get notified when the dashboard changes", "dashboard_watch"),
    ("summarize this wiki page", "wiki_page_summarize"),
    ("label a pull request", "pull_request_tag"),
    ("comment on a pull request review", "pull_request_comment"),
    ("get the phone number of a contact", "contact_get"),
    ("post a message in a slack channel", "chat_message_create"),
    ("upload a csv of products into the shop catalogue", "product_import"),
    ("show the changelog of a software release", "release_get"),
    ("duplicate a slide deck presentation", "slide_deck_copy"),
    ("delete a photo", "image_delete"),
    ("look up a customer in the crm", "customer_search"),
    ("archive a finished project", "project_archive"),
    ("stop anyone editing the document", "document_lock"),
    ("list the virtual machines", "vm_list"),
];
