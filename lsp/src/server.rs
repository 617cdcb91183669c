//! The language server: LSP notifications and requests, each answered by the module of
//! its request kind from the analysis of the document's project.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};
use weft_compiler::analysis::Analysis;
use weft_compiler::project::MANIFEST;
use weft_compiler::source::FileId;

use crate::position::LineIndex;
use crate::world::{self, path_of, ProjectKey, Snapshot, World};
use crate::{
    code_action, code_lens, completion, definition, folding, formatting, hover, inlay_hints,
    references, rename, run_test, semantic_diff, semantic_tokens, signature_help, symbols,
};
use weft_compiler::diff::side::{self, LoadError};

/// How long after an edit its project is checked: long enough for the rest of a burst
/// of changes the client sent together to arrive (the newest one wins), too short to
/// notice. Checking an edit takes milliseconds ([`weft_compiler::analysis::Analysis::update`]).
const DEBOUNCE: Duration = Duration::from_millis(2);

/// The server state shared by all handlers.
pub struct Backend {
    client: Client,
    world: Arc<World>,
    /// Workspace folders from `initialize`, for workspace symbols before anything is open.
    roots: Mutex<Vec<PathBuf>>,
    /// Whether the client asks for lenses again on `workspace/codeLens/refresh`.
    lens_refresh: AtomicBool,
}

impl Backend {
    /// A server that talks to `client`.
    pub fn new(client: Client) -> Backend {
        Backend {
            client,
            world: Arc::new(World::new()),
            roots: Mutex::new(Vec::new()),
            lens_refresh: AtomicBool::new(false),
        }
    }

    /// Checks a project now (in the background) and publishes what changed.
    fn refresh(&self, key: ProjectKey, always: Option<Uri>) {
        let (client, world) = (self.client.clone(), self.world.clone());
        tokio::spawn(async move { publish(&client, &world, key, always).await });
    }

    /// Checks a project once edits pause: a newer edit of the project wins. The edited
    /// document's diagnostics are sent even when unchanged, with the version checked.
    fn refresh_later(&self, key: ProjectKey, generation: u64, edited: Uri) {
        let (client, world) = (self.client.clone(), self.world.clone());
        tokio::spawn(async move {
            tokio::time::sleep(DEBOUNCE).await;
            if world.documents().generation(&key) == generation {
                publish(&client, &world, key, Some(edited)).await;
            }
        });
    }

    /// Runs `answer` on the analysis of the document's project, fresh for its text.
    async fn on_file<R, F>(&self, uri: &Uri, answer: F) -> Result<Option<R>>
    where
        R: Send + 'static,
        F: FnOnce(&Snapshot, &Analysis, FileId) -> Option<R> + Send + 'static,
    {
        let Some(path) = path_of(uri) else {
            return Ok(None);
        };
        let outcome = self
            .world
            .run(move |host| {
                let key = host.key_of(&path);
                let snapshot = host.fresh(&key);
                let analysis = snapshot
                    .analysis()
                    .map_err(|panic| format!("the checker failed on this project: {panic}"))?;
                Ok(snapshot
                    .file_of(analysis, &path)
                    .and_then(|file| answer(snapshot, analysis, file)))
            })
            .await;
        match outcome {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(message)) | Err(message) => Err(internal(message)),
        }
    }
}

impl Backend {
    /// `weft.runTest` with arguments `[uri, test name]`: runs the test of the editor's
    /// version of the project, publishes its failures as diagnostics, shows the result
    /// and returns it ([`run_test::Outcome`]).
    async fn run_test(&self, arguments: &[LSPAny]) -> Result<LSPAny> {
        let (Some(uri), Some(name)) = (
            arguments.first().and_then(LSPAny::as_str),
            arguments.get(1).and_then(LSPAny::as_str),
        ) else {
            return Err(invalid(format!(
                "{} takes two arguments, the URI of a .weft file and a test name",
                code_lens::RUN_TEST
            )));
        };
        let path = uri
            .parse::<Uri>()
            .ok()
            .and_then(|uri| path_of(&uri))
            .ok_or_else(|| invalid(format!("{uri} is not a file")))?;
        let name = name.to_string();
        let prepared = self
            .world
            .run(move |host| {
                let key = host.key_of(&path);
                let snapshot = host.fresh(&key);
                let analysis = snapshot.analysis()?;
                run_test::prepare(snapshot, analysis, &name)
                    .map(|prepared| (prepared, key.clone(), snapshot.generation))
            })
            .await
            .map_err(internal)?;
        let (prepared, key, generation) = prepared.map_err(failed)?;
        let outcome = tokio::task::spawn_blocking(move || prepared.run())
            .await
            .map_err(|e| internal(format!("the test runner failed: {e}")))?;
        let answer = serde_json::to_value(&outcome)
            .map_err(|e| internal(format!("cannot encode the test result: {e}")))?;
        let message = outcome.message();
        let passed = outcome.passed;
        let published = self
            .world
            .run(move |host| {
                host.record_test(key.clone(), generation, outcome);
                host.publish(&key, None)
            })
            .await
            .map_err(internal)?;
        for (uri, diagnostics, version) in published.unwrap_or_default() {
            self.client
                .publish_diagnostics(uri, diagnostics, version)
                .await;
        }
        let kind = if passed {
            MessageType::INFO
        } else {
            MessageType::ERROR
        };
        self.client.show_message(kind, message).await;
        if self.lens_refresh.load(Ordering::Relaxed) {
            // Only a hint: a client that fails it keeps the old titles.
            let _ = self.client.code_lens_refresh().await;
        }
        Ok(answer)
    }

    /// `weft/semanticDiff`: the editor's version of the project (unsaved buffers
    /// included) against `HEAD`, a revision or an artifact.
    pub async fn semantic_diff(
        &self,
        params: semantic_diff::Params,
    ) -> Result<semantic_diff::Answer> {
        let uri = params.text_document.uri;
        let Some(path) = path_of(&uri) else {
            return Err(invalid(format!("{} is not a file", uri.as_str())));
        };
        let current = self
            .world
            .run(move |host| {
                let key = host.key_of(&path);
                let ProjectKey::Root(root) = key.clone() else {
                    return Err("this file is in no project: a semantic diff compares versions of a project, a folder with weft.toml".to_string());
                };
                let analysis = host.fresh(&key).analysis()?;
                side::model(analysis, "the editor's version")
                    .map(|model| (model, root))
                    .map_err(|m| format!("{m}; fix the problems the editor shows, then compare again"))
            })
            .await
            .map_err(internal)?;
        let (new, root) = current.map_err(failed)?;
        let old_side = semantic_diff::old_side(&params.against, &root).map_err(invalid)?;
        let label = params.against.clone();
        let old = tokio::task::spawn_blocking(move || {
            side::load(&old_side, &label, &root, drop).map_err(load_failure)
        })
        .await
        .map_err(|e| internal(format!("loading the old version failed: {e}")))?
        .map_err(failed)?;
        semantic_diff::answer(&old, &new, params.flow.as_deref()).map_err(invalid)
    }
}

/// Publishes the diagnostics of a project that changed since the last publication.
async fn publish(client: &Client, world: &World, key: ProjectKey, always: Option<Uri>) {
    match world
        .run(move |host| host.publish(&key, always.as_ref()))
        .await
    {
        Ok(Some(list)) => {
            for (uri, diagnostics, version) in list {
                client.publish_diagnostics(uri, diagnostics, version).await;
            }
        }
        Ok(None) => {} // stale: a newer edit publishes
        Err(message) => {
            client
                .log_message(MessageType::ERROR, format!("weft: {message}"))
                .await;
        }
    }
}

fn internal(message: String) -> Error {
    Error {
        code: ErrorCode::InternalError,
        message: message.into(),
        data: None,
    }
}

/// A request refused with a message for the user, such as renaming a built-in.
fn refused(message: String) -> Error {
    Error {
        code: ErrorCode::InvalidRequest,
        message: message.into(),
        data: None,
    }
}

/// A request whose parameters name something that does not exist.
fn invalid(message: String) -> Error {
    Error {
        code: ErrorCode::InvalidParams,
        message: message.into(),
        data: None,
    }
}

/// LSP's `RequestFailed`: the request was well formed, but could not be answered.
const REQUEST_FAILED: i64 = -32803;

/// A well-formed request that cannot be answered, with what to do about it.
fn failed(message: String) -> Error {
    Error {
        code: ErrorCode::ServerError(REQUEST_FAILED),
        message: message.into(),
        data: None,
    }
}

/// Diagnostics shown in an error message at most.
const DIAGNOSTICS_IN_MESSAGE: usize = 3;

/// The message of a diff side that could not be loaded: for a project with errors, the
/// first few of them as `file:line:column: code message`.
fn load_failure(error: LoadError) -> String {
    match error {
        LoadError::Unusable(message) => message,
        LoadError::Errors(message, analysis) => {
            let mut out = format!(
                "{message} ({}); it must compile to be compared",
                match analysis.error_count() {
                    1 => "1 error".to_string(),
                    n if n <= DIAGNOSTICS_IN_MESSAGE => format!("{n} errors"),
                    n => format!("{n} errors, the first {DIAGNOSTICS_IN_MESSAGE} below"),
                }
            );
            let errors = analysis.diagnostics.iter().filter(|d| d.is_error());
            for d in errors.take(DIAGNOSTICS_IN_MESSAGE) {
                let (line, column) = analysis
                    .db
                    .line_col(d.primary.loc.file, d.primary.loc.span.start);
                let name = &analysis.db.get(d.primary.loc.file).name;
                out.push_str(&format!(
                    "\n{name}:{line}:{column}: {} {}",
                    d.code.as_str(),
                    d.message
                ));
            }
            out
        }
    }
}

fn is_weft(uri: &Uri) -> bool {
    uri.path().as_str().ends_with(".weft")
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let mut roots: Vec<PathBuf> = params
            .workspace_folders
            .unwrap_or_default()
            .iter()
            .filter_map(|folder| path_of(&folder.uri))
            .collect();
        #[allow(deprecated)] // older clients send only `rootUri`
        if let Some(root) = params.root_uri.as_ref().and_then(path_of) {
            roots.push(root);
        }
        *world::lock(&self.roots) = roots;
        let lens_refresh = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.code_lens.as_ref())
            .and_then(|c| c.refresh_support)
            .unwrap_or(false);
        self.lens_refresh.store(lens_refresh, Ordering::Relaxed);
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                        ..TextDocumentSyncOptions::default()
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                document_formatting_provider: Some(OneOf::Left(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                        ..CodeActionOptions::default()
                    },
                )),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![".".to_string()]),
                    ..CompletionOptions::default()
                }),
                references_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                })),
                semantic_tokens_provider: Some(
                    SemanticTokensServerCapabilities::SemanticTokensOptions(
                        SemanticTokensOptions {
                            legend: semantic_tokens::legend(),
                            full: Some(SemanticTokensFullOptions::Bool(true)),
                            range: None,
                            ..SemanticTokensOptions::default()
                        },
                    ),
                ),
                signature_help_provider: Some(SignatureHelpOptions {
                    trigger_characters: Some(vec!["(".to_string(), ",".to_string()]),
                    retrigger_characters: None,
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                }),
                folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                inlay_hint_provider: Some(OneOf::Left(true)),
                code_lens_provider: Some(CodeLensOptions {
                    resolve_provider: Some(false),
                }),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: vec![code_lens::RUN_TEST.to_string()],
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                }),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "weft-lsp".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
            offset_encoding: None,
        })
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        let Some(path) = path_of(&doc.uri).filter(|_| is_weft(&doc.uri)) else {
            return;
        };
        let opened = self
            .world
            .documents()
            .update(path, doc.uri.clone(), doc.text, doc.version);
        if let Some((key, _)) = opened {
            self.refresh(key, Some(doc.uri));
        }
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let Some(path) = path_of(&uri).filter(|_| is_weft(&uri)) else {
            return;
        };
        let edited = uri.clone();
        let changed = {
            let mut docs = self.world.documents();
            // Not open yet (its didOpen may be handled after this): full text opens it.
            let mut text = match docs.get(&path) {
                Some(doc) => doc.text.clone(),
                None if params.content_changes.iter().all(|c| c.range.is_none()) => String::new(),
                None => return,
            };
            for change in params.content_changes {
                match change.range {
                    Some(range) => {
                        let span = LineIndex::new(&text).span(range);
                        text.replace_range(span.start..span.end, &change.text);
                    }
                    None => text = change.text,
                }
            }
            docs.update(path, uri, text, params.text_document.version)
        };
        if let Some((key, generation)) = changed {
            self.refresh_later(key, generation, edited);
        }
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        let Some(path) = path_of(&params.text_document.uri) else {
            return;
        };
        let key = {
            let mut docs = self.world.documents();
            let Some(key) = docs.get(&path).map(|d| d.project.clone()) else {
                return;
            };
            // Files that are not open (imported schemas, other sources) may have changed too.
            docs.reload(&key);
            key
        };
        self.refresh(key, None);
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let Some(path) = path_of(&params.text_document.uri) else {
            return;
        };
        let Some(doc) = self.world.documents().close(&path) else {
            return;
        };
        match doc.project {
            ProjectKey::Single(_) => {
                let key = doc.project.clone();
                if let Ok(list) = self.world.run(move |host| host.forget(&key)).await {
                    for (uri, diagnostics, version) in list {
                        self.client
                            .publish_diagnostics(uri, diagnostics, version)
                            .await;
                    }
                }
            }
            // The project is read from disk again: unsaved edits are gone.
            ProjectKey::Root(_) => self.refresh(doc.project, None),
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let at = params.text_document_position_params;
        let position = at.position;
        self.on_file(&at.text_document.uri, move |snapshot, analysis, file| {
            hover::hover(snapshot, analysis, file, position)
        })
        .await
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let at = params.text_document_position_params;
        let position = at.position;
        self.on_file(&at.text_document.uri, move |snapshot, analysis, file| {
            definition::definition(snapshot, analysis, file, position)
                .map(GotoDefinitionResponse::Scalar)
        })
        .await
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        self.on_file(&params.text_document.uri, |snapshot, analysis, file| {
            Some(DocumentSymbolResponse::Nested(symbols::document_symbols(
                snapshot, analysis, file,
            )))
        })
        .await
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        let query = params.query;
        let roots: Vec<ProjectKey> = world::lock(&self.roots)
            .iter()
            .filter(|root| root.join(MANIFEST).is_file())
            .map(|root| ProjectKey::Root(root.clone()))
            .collect();
        let outcome = self
            .world
            .run(move |host| {
                let mut keys = host.open_projects();
                keys.extend(roots);
                keys.sort();
                keys.dedup();
                let mut found = Vec::new();
                for key in keys {
                    let snapshot = host.fresh(&key);
                    if let Ok(analysis) = snapshot.analysis() {
                        found.extend(symbols::workspace_symbols(snapshot, analysis, &query));
                    }
                }
                found
            })
            .await
            .map_err(internal)?;
        Ok(Some(WorkspaceSymbolResponse::Flat(outcome)))
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        let Some(path) = path_of(&params.text_document.uri) else {
            return Ok(None);
        };
        let Some(text) = self.world.documents().get(&path).map(|d| d.text.clone()) else {
            return Ok(None);
        };
        tokio::task::spawn_blocking(move || formatting::format(&text))
            .await
            .map_err(|error| internal(format!("the formatter failed: {error}")))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let actions = code_action::actions(&params);
        Ok((!actions.is_empty()).then_some(actions))
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let at = params.text_document_position;
        let position = at.position;
        self.on_file(&at.text_document.uri, move |snapshot, analysis, file| {
            let items = completion::completion(snapshot, analysis, file, position);
            (!items.is_empty()).then_some(CompletionResponse::Array(items))
        })
        .await
    }
    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let at = params.text_document_position;
        let position = at.position;
        let include = params.context.include_declaration;
        self.on_file(&at.text_document.uri, move |snapshot, analysis, file| {
            references::references(snapshot, analysis, file, position, include)
        })
        .await
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        let position = params.position;
        let answer = self
            .on_file(
                &params.text_document.uri,
                move |snapshot, analysis, file| {
                    Some(rename::prepare(snapshot, analysis, file, position))
                },
            )
            .await?;
        match answer {
            Some(Ok(range)) => Ok(range.map(PrepareRenameResponse::Range)),
            Some(Err(message)) => Err(refused(message)),
            None => Ok(None),
        }
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let at = params.text_document_position;
        let position = at.position;
        let new_name = params.new_name;
        let answer = self
            .on_file(&at.text_document.uri, move |snapshot, analysis, file| {
                Some(rename::rename(
                    snapshot, analysis, file, position, &new_name,
                ))
            })
            .await?;
        match answer {
            Some(Ok(edit)) => Ok(edit),
            Some(Err(message)) => Err(refused(message)),
            None => Ok(None),
        }
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        self.on_file(&params.text_document.uri, |snapshot, analysis, file| {
            Some(SemanticTokensResult::Tokens(semantic_tokens::full(
                snapshot, analysis, file,
            )))
        })
        .await
    }

    async fn signature_help(&self, params: SignatureHelpParams) -> Result<Option<SignatureHelp>> {
        let at = params.text_document_position_params;
        let position = at.position;
        self.on_file(&at.text_document.uri, move |snapshot, analysis, file| {
            signature_help::signature_help(snapshot, analysis, file, position)
        })
        .await
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        self.on_file(&params.text_document.uri, |snapshot, analysis, file| {
            Some(folding::folding_ranges(snapshot.text(analysis, file)))
        })
        .await
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        let range = params.range;
        self.on_file(
            &params.text_document.uri,
            move |snapshot, analysis, file| {
                Some(inlay_hints::inlay_hints(snapshot, analysis, file, range))
            },
        )
        .await
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let uri = params.text_document.uri;
        let titles = match path_of(&uri) {
            Some(path) => self
                .world
                .run(move |host| host.test_titles(&host.key_of(&path)))
                .await
                .map_err(internal)?,
            None => return Ok(None),
        };
        self.on_file(&uri, move |snapshot, analysis, file| {
            Some(code_lens::code_lenses(snapshot, analysis, file, &titles))
        })
        .await
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        match params.command.as_str() {
            code_lens::RUN_TEST => self.run_test(&params.arguments).await.map(Some),
            other => Err(invalid(format!(
                "unknown command `{other}`; this server runs `{}`",
                code_lens::RUN_TEST
            ))),
        }
    }
}
