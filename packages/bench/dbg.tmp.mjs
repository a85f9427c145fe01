import { connect } from '@fates-rx/core'
import { fakeWebSockets, memoryBrowser } from '@fates-rx/core/testing'
const browser = memoryBrowser()
const s = fakeWebSockets()
const c = connect({ url: 'ws://127.0.0.1:9/ws', id: '811073947382579200', token: 'bench-token', WebSocket: s.WebSocket, shareAcrossTabs: browser.tab().environment })
c.status$.subscribe((x) => console.log(JSON.stringify(x)))
setTimeout(() => console.log(s.sockets.length), 100)
