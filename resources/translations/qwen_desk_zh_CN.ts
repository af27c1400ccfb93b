<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>ChatController</name>
    <message>
        <source>New conversation</source>
        <translation>新对话</translation>
    </message>
</context>
<context>
    <name>ChatPanel</name>
    <message>
        <source>Ask a question about your documents</source>
        <translation>就您的文档提问</translation>
    </message>
    <message>
        <source>Answers cite their sources as [1], [2]… Click a citation to open the page.</source>
        <translation>回答会以 [1]、[2]… 标注来源，点击引用即可打开对应页面。</translation>
    </message>
    <message>
        <source>Ask a question… (Enter to send, Shift+Enter for a new line)</source>
        <translation>输入问题…（Enter 发送，Shift+Enter 换行）</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop the answer (Esc)</source>
        <translation>停止回答 (Esc)</translation>
    </message>
    <message>
        <source>Editing your last question — Enter to resend, Esc to cancel</source>
        <translation>正在编辑上一个问题 — Enter 重新发送，Esc 取消</translation>
    </message>
</context>
<context>
    <name>CollectionModel</name>
    <message>
        <source>Default</source>
        <translation>默认</translation>
    </message>
</context>
<context>
    <name>ConversationList</name>
    <message>
        <source>Conversations</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>New</source>
        <translation>新建</translation>
    </message>
    <message>
        <source>New conversation (Ctrl+N)</source>
        <translation>新对话 (Ctrl+N)</translation>
    </message>
    <message>
        <source>Search conversations (Ctrl+F)</source>
        <translation>搜索对话 (Ctrl+F)</translation>
    </message>
    <message>
        <source>No conversations match</source>
        <translation>没有匹配的对话</translation>
    </message>
    <message>
        <source>Rename…</source>
        <translation>重命名…</translation>
    </message>
    <message>
        <source>Export as Markdown…</source>
        <translation>导出为 Markdown…</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>删除…</translation>
    </message>
    <message>
        <source>Rename conversation</source>
        <translation>重命名对话</translation>
    </message>
    <message>
        <source>Title:</source>
        <translation>标题：</translation>
    </message>
    <message>
        <source>Delete conversation</source>
        <translation>删除对话</translation>
    </message>
    <message>
        <source>Delete “%1” and all its messages? This cannot be undone.</source>
        <translation>删除“%1”及其全部消息？此操作无法撤销。</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Conversation</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>Export conversation</source>
        <translation>导出对话</translation>
    </message>
    <message>
        <source>Markdown (*.md)</source>
        <translation>Markdown 文件 (*.md)</translation>
    </message>
</context>
<context>
    <name>DocumentDelegate</name>
    <message>
        <source>Waiting…</source>
        <translation>等待中…</translation>
    </message>
    <message>
        <source>Reading…</source>
        <translation>正在读取…</translation>
    </message>
    <message>
        <source>Indexing %1/%2</source>
        <translation>正在索引 %1/%2</translation>
    </message>
    <message>
        <source>1 page</source>
        <translation>1 页</translation>
    </message>
    <message>
        <source>%1 pages</source>
        <translation>%1 页</translation>
    </message>
    <message>
        <source>1 passage</source>
        <translation>1 个段落</translation>
    </message>
    <message>
        <source>%1 passages</source>
        <translation>%1 个段落</translation>
    </message>
    <message>
        <source>%1 scanned pages without text</source>
        <translation>%1 页为扫描件，无文字</translation>
    </message>
    <message>
        <source>Skipped: %1</source>
        <translation>已跳过：%1</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>Protected by a password — double-click to open it</source>
        <translation>受密码保护 — 双击输入密码</translation>
    </message>
    <message>
        <source>Wrong password — double-click to try again</source>
        <translation>密码错误 — 双击重试</translation>
    </message>
</context>
<context>
    <name>DropOverlay</name>
    <message>
        <source>Drop files or folders to add them to “%1”</source>
        <translation>松开鼠标，将文件或文件夹添加到“%1”</translation>
    </message>
    <message>
        <source>the knowledge base</source>
        <translation>知识库</translation>
    </message>
</context>
<context>
    <name>EmptyState</name>
    <message>
        <source>Add documents to start</source>
        <translation>添加文档，开始使用</translation>
    </message>
    <message>
        <source>Drop PDF, Word, Markdown or text files here</source>
        <translation>将 PDF、Word、Markdown 或文本文件拖放到这里</translation>
    </message>
    <message>
        <source>Files stay on this computer. Folders are searched for documents too.</source>
        <translation>文件只保存在本机。拖入文件夹时，其中的文档也会被添加。</translation>
    </message>
    <message>
        <source>Add files…</source>
        <translation>添加文件…</translation>
    </message>
    <message>
        <source>Add folder…</source>
        <translation>添加文件夹…</translation>
    </message>
</context>
<context>
    <name>KnowledgeSidebar</name>
    <message>
        <source>Each knowledge base keeps its documents apart</source>
        <translation>每个知识库的文档彼此独立</translation>
    </message>
    <message>
        <source>Manage knowledge bases</source>
        <translation>管理知识库</translation>
    </message>
    <message>
        <source>New knowledge base…</source>
        <translation>新建知识库…</translation>
    </message>
    <message>
        <source>Rename…</source>
        <translation>重命名…</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>删除…</translation>
    </message>
    <message>
        <source>Documents</source>
        <translation>文档</translation>
    </message>
    <message>
        <source>Opening the knowledge base…</source>
        <translation>正在打开知识库…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Stop indexing the files still waiting</source>
        <translation>停止索引尚在等待的文件</translation>
    </message>
    <message>
        <source>Add files…</source>
        <translation>添加文件…</translation>
    </message>
    <message>
        <source>Add folder…</source>
        <translation>添加文件夹…</translation>
    </message>
    <message>
        <source>Remove all documents…</source>
        <translation>移除全部文档…</translation>
    </message>
    <message>
        <source>Indexing %1 of %2…</source>
        <translation>正在索引第 %1 个，共 %2 个…</translation>
    </message>
    <message>
        <source>Add files to the knowledge base</source>
        <translation>向知识库添加文件</translation>
    </message>
    <message>
        <source>Documents (%1)</source>
        <translation>文档 (%1)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>所有文件 (*)</translation>
    </message>
    <message>
        <source>Add a folder to the knowledge base</source>
        <translation>向知识库添加文件夹</translation>
    </message>
    <message>
        <source>Enter password…</source>
        <translation>输入密码…</translation>
    </message>
    <message>
        <source>Cancel indexing</source>
        <translation>取消索引</translation>
    </message>
    <message>
        <source>Re-index</source>
        <translation>重新索引</translation>
    </message>
    <message>
        <source>Open file</source>
        <translation>打开文件</translation>
    </message>
    <message>
        <source>Remove from knowledge base</source>
        <translation>从知识库中移除</translation>
    </message>
    <message>
        <source>Password required</source>
        <translation>需要密码</translation>
    </message>
    <message>
        <source>“%1” is protected by a password. Enter it to index the file:</source>
        <translation>“%1”受密码保护。请输入密码以索引该文件：</translation>
    </message>
    <message>
        <source>The password for “%1” was not correct. Try again:</source>
        <translation>“%1”的密码不正确，请重试：</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <source>New knowledge base</source>
        <translation>新建知识库</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>名称：</translation>
    </message>
    <message>
        <source>Rename knowledge base</source>
        <translation>重命名知识库</translation>
    </message>
    <message>
        <source>New name for “%1”:</source>
        <translation>“%1”的新名称：</translation>
    </message>
    <message>
        <source>Delete knowledge base</source>
        <translation>删除知识库</translation>
    </message>
    <message>
        <source>Remove all %2 documents from “%1”?</source>
        <translation>从“%1”中移除全部 %2 个文档？</translation>
    </message>
    <message>
        <source>Delete “%1” and its %2 documents?</source>
        <translation>删除“%1”及其中的 %2 个文档？</translation>
    </message>
    <message>
        <source>The files on your disk are not touched; only the index is deleted.</source>
        <translation>磁盘上的原文件不受影响，只删除索引。</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Remove all</source>
        <translation>全部移除</translation>
    </message>
    <message>
        <source>Knowledge base</source>
        <translation>知识库</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Qwen Desk</source>
        <translation>Qwen Desk</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>Add files…</source>
        <translation>添加文件…</translation>
    </message>
    <message>
        <source>Add folder…</source>
        <translation>添加文件夹…</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>&amp;Chat</source>
        <translation>对话(&amp;C)</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>Search conversations</source>
        <translation>搜索对话</translation>
    </message>
    <message>
        <source>Stop answer</source>
        <translation>停止回答</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>About Qwen Desk</source>
        <translation>关于 Qwen Desk</translation>
    </message>
    <message>
        <source>&lt;b&gt;Qwen Desk %1&lt;/b&gt;&lt;p&gt;Private, offline chat with your documents. Answers come from the Ollama model on this computer; nothing leaves it.&lt;/p&gt;</source>
        <translation>&lt;b&gt;Qwen Desk %1&lt;/b&gt;&lt;p&gt;私密、离线地与您的文档对话。回答由本机上的 Ollama 模型生成，任何数据都不会离开这台电脑。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Knowledge base</source>
        <translation>知识库</translation>
    </message>
    <message>
        <source>Re-index now</source>
        <translation>立即重新索引</translation>
    </message>
</context>
<context>
    <name>MarkdownView</name>
    <message>
        <source>Show source [%1]</source>
        <translation>查看来源 [%1]</translation>
    </message>
    <message>
        <source>Not among the sources of this answer: [%1]</source>
        <translation>不在此回答的来源之中：[%1]</translation>
    </message>
</context>
<context>
    <name>MessageWidget</name>
    <message>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>编辑</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>助手</translation>
    </message>
    <message>
        <source>You</source>
        <translation>您</translation>
    </message>
    <message>
        <source>Not from your documents: the model answered without sources.</source>
        <translation>并非来自您的文档：这是模型在没有来源的情况下给出的回答。</translation>
    </message>
    <message>
        <source>Searching your documents…</source>
        <translation>正在检索您的文档…</translation>
    </message>
    <message>
        <source>Writing the answer…</source>
        <translation>正在撰写回答…</translation>
    </message>
    <message>
        <source>Not found in your documents. Nothing relevant was retrieved, so no answer was made up.</source>
        <translation>您的文档中没有找到相关内容。由于未检索到相关资料，因此没有编造答案。</translation>
    </message>
    <message>
        <source>1 source was left out to fit the model&apos;s context window.</source>
        <translation>为适应模型的上下文窗口，省略了 1 个来源。</translation>
    </message>
    <message>
        <source>%1 sources were left out to fit the model&apos;s context window.</source>
        <translation>为适应模型的上下文窗口，省略了 %1 个来源。</translation>
    </message>
    <message>
        <source>Earlier exchanges not sent to the model: %1 (context window).</source>
        <translation>较早的 %1 轮对话未发送给模型（上下文窗口限制）。</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>已停止。</translation>
    </message>
    <message>
        <source>Interrupted: %1</source>
        <translation>已中断：%1</translation>
    </message>
    <message>
        <source>Failed: %1</source>
        <translation>失败：%1</translation>
    </message>
    <message>
        <source>Sources</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>p. %1</source>
        <translation>第 %1 页</translation>
    </message>
    <message>
        <source>first token %1 s</source>
        <translation>首字 %1 秒</translation>
    </message>
    <message>
        <source>%1 tokens/s</source>
        <translation>%1 词元/秒</translation>
    </message>
</context>
<context>
    <name>Messages</name>
    <message>
        <source>Something went wrong.</source>
        <translation>出现了问题。</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
    <message>
        <source>This document could not be read.</source>
        <translation>无法读取此文档。</translation>
    </message>
    <message>
        <source>The file is missing or cannot be opened.</source>
        <translation>文件不存在或无法打开。</translation>
    </message>
    <message>
        <source>This file type is not supported yet.</source>
        <translation>暂不支持此文件类型。</translation>
    </message>
    <message>
        <source>The file is empty.</source>
        <translation>文件是空的。</translation>
    </message>
    <message>
        <source>The file is damaged or is not really the type its name says.</source>
        <translation>文件已损坏，或其实际格式与扩展名不符。</translation>
    </message>
    <message>
        <source>The file is protected by a password.</source>
        <translation>文件受密码保护。</translation>
    </message>
    <message>
        <source>The password is not correct.</source>
        <translation>密码不正确。</translation>
    </message>
    <message>
        <source>The text encoding of this file could not be recognised.</source>
        <translation>无法识别此文件的文本编码。</translation>
    </message>
    <message>
        <source>The file contains binary data, not text.</source>
        <translation>文件包含二进制数据，而非文本。</translation>
    </message>
    <message>
        <source>No text could be found in the file (it may be scanned images).</source>
        <translation>文件中找不到文字（可能是扫描图片）。</translation>
    </message>
    <message>
        <source>The file is too large.</source>
        <translation>文件太大。</translation>
    </message>
    <message>
        <source>Reading the file took too long and was stopped.</source>
        <translation>读取文件耗时过长，已停止。</translation>
    </message>
    <message>
        <source>The document reader stopped unexpectedly on this file.</source>
        <translation>文档读取器在处理此文件时意外停止。</translation>
    </message>
    <message>
        <source>The knowledge base could not complete the operation.</source>
        <translation>知识库无法完成此操作。</translation>
    </message>
    <message>
        <source>There is not enough free space on the disk. Free some space, then add the files again.</source>
        <translation>磁盘空间不足。请释放一些空间，然后重新添加文件。</translation>
    </message>
    <message>
        <source>The knowledge base was built with a different embedding model. Re-index it to use the current model.</source>
        <translation>此知识库是用另一个嵌入模型建立的。请重新索引，以使用当前模型。</translation>
    </message>
    <message>
        <source>The data was written by a newer version of Qwen Desk.</source>
        <translation>这些数据由更新版本的 Qwen Desk 写入。</translation>
    </message>
    <message>
        <source>There is no knowledge base with that name.</source>
        <translation>没有这个名称的知识库。</translation>
    </message>
    <message>
        <source>A knowledge base with that name already exists.</source>
        <translation>已存在同名的知识库。</translation>
    </message>
    <message>
        <source>That name cannot be used for a knowledge base.</source>
        <translation>该名称不能用作知识库名称。</translation>
    </message>
    <message>
        <source>The document was not found.</source>
        <translation>找不到该文档。</translation>
    </message>
    <message>
        <source>The embedding model failed.</source>
        <translation>嵌入模型出错。</translation>
    </message>
    <message>
        <source>The embedding model folder is missing or does not contain a model.</source>
        <translation>嵌入模型文件夹不存在，或其中没有模型。</translation>
    </message>
    <message>
        <source>The language model server reported an error.</source>
        <translation>语言模型服务器报告了错误。</translation>
    </message>
    <message>
        <source>Ollama is not running or cannot be reached at the configured address.</source>
        <translation>Ollama 未运行，或无法通过所设置的地址访问。</translation>
    </message>
    <message>
        <source>The model is not installed in Ollama.</source>
        <translation>Ollama 中尚未安装该模型。</translation>
    </message>
    <message>
        <source>The question and its sources are longer than the model&apos;s context window.</source>
        <translation>问题及其来源超出了模型的上下文窗口。</translation>
    </message>
    <message>
        <source>The model server ran out of memory.</source>
        <translation>模型服务器内存不足。</translation>
    </message>
    <message>
        <source>The model server did not answer in time.</source>
        <translation>模型服务器未能及时响应。</translation>
    </message>
    <message>
        <source>The answer stopped before it was complete.</source>
        <translation>回答在完成前中断了。</translation>
    </message>
    <message>
        <source>Downloading the model failed.</source>
        <translation>模型下载失败。</translation>
    </message>
    <message>
        <source>The model server sent a response Qwen Desk does not understand.</source>
        <translation>模型服务器返回了 Qwen Desk 无法识别的响应。</translation>
    </message>
    <message>
        <source>The conversation could not be saved or loaded.</source>
        <translation>无法保存或加载该对话。</translation>
    </message>
    <message>
        <source>The conversation was not found.</source>
        <translation>找不到该对话。</translation>
    </message>
    <message>
        <source>The conversation could not be written to that file.</source>
        <translation>无法将对话写入该文件。</translation>
    </message>
    <message>
        <source>The conversation could not be exported: you are not allowed to write in that folder.</source>
        <translation>无法导出对话：你没有权限写入该文件夹。</translation>
    </message>
    <message>
        <source>A setting has an invalid value.</source>
        <translation>某项设置的值无效。</translation>
    </message>
    <message>
        <source>There is not enough free space on the disk: about %1 MB is needed. Free some space, then add the files again.</source>
        <translation>磁盘空间不足：大约需要 %1 MB。请释放一些空间，然后重新添加文件。</translation>
    </message>
</context>
<context>
    <name>ModelBar</name>
    <message>
        <source>Model:</source>
        <translation>模型：</translation>
    </message>
    <message>
        <source>Download…</source>
        <translation>下载…</translation>
    </message>
    <message>
        <source>Ollama %1</source>
        <translation>Ollama %1</translation>
    </message>
    <message>
        <source>Ollama not running</source>
        <translation>Ollama 未运行</translation>
    </message>
    <message>
        <source>Wrong host: %1</source>
        <translation>地址有误：%1</translation>
    </message>
    <message>
        <source>Model missing: %1</source>
        <translation>缺少模型：%1</translation>
    </message>
    <message>
        <source>Looking for Ollama…</source>
        <translation>正在查找 Ollama…</translation>
    </message>
    <message>
        <source>%1 (not installed)</source>
        <translation>%1（未安装）</translation>
    </message>
    <message>
        <source>Not loaded</source>
        <translation>未加载</translation>
    </message>
    <message>
        <source>VRAM %1</source>
        <translation>显存 %1</translation>
    </message>
    <message>
        <source>%1% on GPU</source>
        <translation>GPU 占比 %1%</translation>
    </message>
    <message>
        <source>%1 tokens/s</source>
        <translation>%1 词元/秒</translation>
    </message>
</context>
<context>
    <name>NoDocumentsNotice</name>
    <message>
        <source>There are no documents in this knowledge base yet.</source>
        <translation>这个知识库里还没有文档。</translation>
    </message>
    <message>
        <source>To ask about your files, add them first: drag them onto this window, press %1, or use “Add folder…” in the sidebar. Or ask without documents: the model then answers from its own knowledge, without sources.</source>
        <translation>要针对您的文件提问，请先添加文件：把文件拖到此窗口，按 %1，或使用侧栏中的“添加文件夹…”。也可以不使用文档直接提问：模型将凭自身知识回答，不附来源。</translation>
    </message>
    <message>
        <source>Add files…</source>
        <translation>添加文件…</translation>
    </message>
    <message>
        <source>Ask without documents</source>
        <translation>不使用文档直接提问</translation>
    </message>
</context>
<context>
    <name>OllamaPanel</name>
    <message>
        <source>No Ollama answers at %1</source>
        <translation>%1 上没有 Ollama 响应</translation>
    </message>
    <message>
        <source>Something else answers at this address, or the address is wrong.</source>
        <translation>此地址上运行的是其他程序，或者地址有误。</translation>
    </message>
    <message>
        <source>Check the Ollama host in Settings (usually %1).</source>
        <translation>请在“设置”中检查 Ollama 地址（通常为 %1）。</translation>
    </message>
    <message>
        <source>Ollama is not running</source>
        <translation>Ollama 未运行</translation>
    </message>
    <message>
        <source>Install Ollama from %1 (type the address on a computer with internet access and copy the installer here).</source>
        <translation>从 %1 安装 Ollama（在能上网的电脑上输入该地址，再把安装程序复制到本机）。</translation>
    </message>
    <message>
        <source>Start it: open the Ollama app, or run %1 in a terminal.</source>
        <translation>启动它：打开 Ollama 应用，或在终端中运行 %1。</translation>
    </message>
    <message>
        <source>Qwen Desk looks for it at %1 (change it in Settings).</source>
        <translation>Qwen Desk 会在 %1 查找它（可在“设置”中更改）。</translation>
    </message>
    <message>
        <source>The model %1 can then be downloaded from here with one click.</source>
        <translation>之后即可在此一键下载模型 %1。</translation>
    </message>
    <message>
        <source>Your documents and search keep working meanwhile.</source>
        <translation>在此期间，您的文档和检索功能仍可正常使用。</translation>
    </message>
    <message>
        <source>Retry now</source>
        <translation>立即重试</translation>
    </message>
    <message>
        <source>Retrying in %1 s…</source>
        <translation>%1 秒后重试…</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>正在检查…</translation>
    </message>
</context>
<context>
    <name>PasswordPrompt</name>
    <message>
        <source>“%1” is protected by a password. Enter it to show the page:</source>
        <translation>“%1”受密码保护。请输入密码以显示该页：</translation>
    </message>
    <message>
        <source>“%1” is protected by a password. Enter it to show the passage:</source>
        <translation>“%1”受密码保护。请输入密码以显示该段落：</translation>
    </message>
    <message>
        <source>The password is not correct. Try again.</source>
        <translation>密码不正确，请重试。</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <source>Show page</source>
        <translation>显示页面</translation>
    </message>
    <message>
        <source>Show passage</source>
        <translation>显示段落</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
</context>
<context>
    <name>PullDialog</name>
    <message>
        <source>Download model</source>
        <translation>下载模型</translation>
    </message>
    <message>
        <source>Qwen Desk answers with this model on your own computer. Ollama downloads it once (several GB); an interrupted download resumes where it stopped.</source>
        <translation>Qwen Desk 使用此模型在您自己的电脑上生成回答。Ollama 只需下载一次（数 GB）；下载中断后会从断点继续。</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Cancel download</source>
        <translation>取消下载</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>The model %1 is not installed in Ollama.</source>
        <translation>Ollama 中尚未安装模型 %1。</translation>
    </message>
    <message>
        <source>Ready to download.</source>
        <translation>可以开始下载。</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在开始…</translation>
    </message>
    <message>
        <source>Downloading %1…</source>
        <translation>正在下载 %1…</translation>
    </message>
    <message>
        <source>Verifying the download…</source>
        <translation>正在校验下载内容…</translation>
    </message>
    <message>
        <source>Installing…</source>
        <translation>正在安装…</translation>
    </message>
    <message>
        <source>Done.</source>
        <translation>完成。</translation>
    </message>
    <message>
        <source>Contacting the model library…</source>
        <translation>正在连接模型库…</translation>
    </message>
    <message>
        <source>%1 of %2</source>
        <translation>%1 / %2</translation>
    </message>
    <message>
        <source>%1/s</source>
        <translation>%1/秒</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>剩余 %1</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 分 %2 秒</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 小时 %2 分</translation>
    </message>
    <message>
        <source>%1 is installed. You can ask questions now.</source>
        <translation>%1 已安装，现在可以提问了。</translation>
    </message>
    <message>
        <source>The model %1 is installed.</source>
        <translation>模型 %1 已安装。</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Ollama could not reach the model library: this computer seems to be offline. Connect it to the internet, or copy the model from another computer (the folder ~/.ollama/models).</source>
        <translation>Ollama 无法连接模型库：这台电脑似乎没有联网。请连接互联网，或从另一台电脑复制模型（文件夹 ~/.ollama/models）。</translation>
    </message>
    <message>
        <source>The download stopped.</source>
        <translation>下载已停止。</translation>
    </message>
    <message>
        <source>Resume download</source>
        <translation>继续下载</translation>
    </message>
    <message>
        <source>Cancelled. The part already downloaded is kept.</source>
        <translation>已取消。已下载的部分会保留。</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Knowledge base</source>
        <translation>知识库</translation>
    </message>
    <message>
        <source>Appearance</source>
        <translation>外观</translation>
    </message>
    <message>
        <source>Set by the %1 environment variable, which overrides this setting.</source>
        <translation>由环境变量 %1 设置，它优先于此设置。</translation>
    </message>
    <message>
        <source>Ollama address:</source>
        <translation>Ollama 地址：</translation>
    </message>
    <message>
        <source>Model:</source>
        <translation>模型：</translation>
    </message>
    <message>
        <source>Temperature:</source>
        <translation>温度：</translation>
    </message>
    <message>
        <source>Lower is more focused, higher more creative.</source>
        <translation>越低越严谨，越高越有创意。</translation>
    </message>
    <message>
        <source>Top-p:</source>
        <translation>Top-p：</translation>
    </message>
    <message>
        <source>Max answer tokens:</source>
        <translation>回答最大词元数：</translation>
    </message>
    <message>
        <source>Context length:</source>
        <translation>上下文长度：</translation>
    </message>
    <message>
        <source>Tokens the model reads at once: question, sources and history.</source>
        <translation>模型一次读取的词元数：包括问题、来源和历史对话。</translation>
    </message>
    <message>
        <source>Keep model loaded:</source>
        <translation>模型保持加载：</translation>
    </message>
    <message>
        <source>How long Ollama keeps the model in memory, e.g. 30m, 2h or -1.</source>
        <translation>Ollama 将模型保留在内存中的时长，例如 30m、2h 或 -1（永久）。</translation>
    </message>
    <message>
        <source>Built-in (all-MiniLM-L6-v2)</source>
        <translation>内置模型（all-MiniLM-L6-v2）</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Embedding model folder</source>
        <translation>嵌入模型文件夹</translation>
    </message>
    <message>
        <source>Sources per answer:</source>
        <translation>每个回答的来源数：</translation>
    </message>
    <message>
        <source>Embedding model folder:</source>
        <translation>嵌入模型文件夹：</translation>
    </message>
    <message>
        <source>Changing the model asks to re-index your documents.</source>
        <translation>更换模型后，需要重新索引您的文档。</translation>
    </message>
    <message>
        <source>System default</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Follow system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>Default folder</source>
        <translation>默认文件夹</translation>
    </message>
    <message>
        <source>Data folder</source>
        <translation>数据文件夹</translation>
    </message>
    <message>
        <source>Language:</source>
        <translation>语言：</translation>
    </message>
    <message>
        <source>Takes effect after a restart.</source>
        <translation>重启后生效。</translation>
    </message>
    <message>
        <source>Theme:</source>
        <translation>主题：</translation>
    </message>
    <message>
        <source>Data folder:</source>
        <translation>数据文件夹：</translation>
    </message>
    <message>
        <source>Knowledge bases and conversations. Takes effect after a restart.</source>
        <translation>用于存放知识库和对话。重启后生效。</translation>
    </message>
    <message>
        <source>Enter an address like http://127.0.0.1:11434</source>
        <translation>请输入类似 http://127.0.0.1:11434 的地址</translation>
    </message>
    <message>
        <source>Enter a duration like 30m, 2h, 300 or -1 (forever)</source>
        <translation>请输入时长，例如 30m、2h、300 或 -1（永久）</translation>
    </message>
    <message>
        <source>Must be between 0 and 2.</source>
        <translation>必须介于 0 和 2 之间。</translation>
    </message>
    <message>
        <source>Must be more than 0 and at most 1.</source>
        <translation>必须大于 0 且不超过 1。</translation>
    </message>
    <message>
        <source>Must be between 16 and 32768, and smaller than the context length.</source>
        <translation>必须介于 16 和 32768 之间，且小于上下文长度。</translation>
    </message>
    <message>
        <source>Must be between 512 and 131072.</source>
        <translation>必须介于 512 和 131072 之间。</translation>
    </message>
    <message>
        <source>Must be between 1 and 50.</source>
        <translation>必须介于 1 和 50 之间。</translation>
    </message>
    <message>
        <source>Enter a model name, e.g. qwen2.5:7b.</source>
        <translation>请输入模型名称，例如 qwen2.5:7b。</translation>
    </message>
    <message>
        <source>Choose light, dark or follow system.</source>
        <translation>请选择浅色、深色或跟随系统。</translation>
    </message>
    <message>
        <source>Choose a language from the list.</source>
        <translation>请从列表中选择一种语言。</translation>
    </message>
    <message>
        <source>Some changes take effect after Qwen Desk is restarted.</source>
        <translation>部分更改将在重启 Qwen Desk 后生效。</translation>
    </message>
</context>
<context>
    <name>SettingsNotice</name>
    <message>
        <source>Settings reset</source>
        <translation>设置已重置</translation>
    </message>
    <message>
        <source>The settings file could not be read: all settings were reset to their defaults.</source>
        <translation>无法读取设置文件：所有设置已恢复为默认值。</translation>
    </message>
    <message>
        <source>These settings could not be read and were reset to their defaults: %1.</source>
        <translation>以下设置无法读取，已恢复为默认值：%1。</translation>
    </message>
    <message>
        <source>The settings file was damaged; the settings that could be read were kept.</source>
        <translation>设置文件已损坏；能读取的设置已保留。</translation>
    </message>
    <message>
        <source>The old file was kept as %1.</source>
        <translation>原文件已保存为 %1。</translation>
    </message>
    <message>
        <source>The settings file could not be repaired: it was left as it is.</source>
        <translation>无法修复设置文件：已保持原样。</translation>
    </message>
</context>
<context>
    <name>SourceViewer</name>
    <message>
        <source>Click a citation to see its source.</source>
        <translation>点击引用即可查看来源。</translation>
    </message>
    <message>
        <source>The file is no longer at %1.</source>
        <translation>文件已不在 %1。</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <source>Page %1</source>
        <translation>第 %1 页</translation>
    </message>
    <message>
        <source>◀ Previous</source>
        <translation>◀ 上一页</translation>
    </message>
    <message>
        <source>Next ▶</source>
        <translation>下一页 ▶</translation>
    </message>
    <message>
        <source>Open in default app</source>
        <translation>用默认应用打开</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>“%1” is protected by a password, so its page cannot be shown. Click the citation again to enter the password.</source>
        <translation>“%1”受密码保护，无法显示其页面。请再次点击引用以输入密码。</translation>
    </message>
    <message>
        <source>“%1” is protected by a password, so its text cannot be shown. Click the citation again to enter the password.</source>
        <translation>“%1”受密码保护，因此无法显示其文本。再次点击引用即可输入密码。</translation>
    </message>
</context>
<context>
    <name>StatusBar</name>
    <message>
        <source>Ollama %1</source>
        <translation>Ollama %1</translation>
    </message>
    <message>
        <source>Ollama is not running</source>
        <translation>Ollama 未运行</translation>
    </message>
    <message>
        <source>No Ollama at %1</source>
        <translation>%1 上没有 Ollama</translation>
    </message>
    <message>
        <source>Model not installed: %1</source>
        <translation>模型未安装：%1</translation>
    </message>
    <message>
        <source>Looking for Ollama…</source>
        <translation>正在查找 Ollama…</translation>
    </message>
    <message>
        <source>Indexing %1 of %2…</source>
        <translation>正在索引第 %1 个，共 %2 个…</translation>
    </message>
    <message>
        <source>1 file needs a password</source>
        <translation>1 个文件需要密码</translation>
    </message>
    <message>
        <source>%1 files need a password</source>
        <translation>%1 个文件需要密码</translation>
    </message>
    <message>
        <source>1 file failed</source>
        <translation>1 个文件失败</translation>
    </message>
    <message>
        <source>%1 files failed</source>
        <translation>%1 个文件失败</translation>
    </message>
    <message>
        <source>Click to show these files in the list</source>
        <translation>点击在列表中显示这些文件</translation>
    </message>
    <message>
        <source>1 file indexed</source>
        <translation>已索引 1 个文件</translation>
    </message>
    <message>
        <source>%1 files indexed</source>
        <translation>已索引 %1 个文件</translation>
    </message>
    <message>
        <source>%1 failed</source>
        <translation>%1 个失败</translation>
    </message>
    <message>
        <source>%1 skipped</source>
        <translation>%1 个已跳过</translation>
    </message>
</context>
</TS>
